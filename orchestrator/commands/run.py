"""`orchestrate run [MATRIX]`: expand the matrix into cells, run them, write results and a summary."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from rich.console import Console

from orchestrator.commands._common import data_dir, make_runtime
from orchestrator.matrix import expand, load_matrix
from orchestrator.report.terminal import print_summary
from orchestrator.results import CellResult, RunDir, write_summary
from orchestrator.runtimes.base import RunContext
from orchestrator.scheduler import Scheduler


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run a matrix of environments x workloads")
    p.add_argument("matrix", nargs="?", default="matrix.yaml")
    p.add_argument("--profile", default=None, help="smoke | quick | article (default: the matrix's default)")
    p.add_argument("--env", action="append", dest="envs", metavar="NAME", help="environment (repeatable)")
    p.add_argument("--workload", action="append", dest="workloads", metavar="NAME", help="workload (repeatable)")
    p.add_argument("--all", action="store_true", help="every environment and workload, not the matrix's default selection")
    p.add_argument("--runtime", default="auto", help="auto | local | docker (auto: docker if an engine with GPUs is here)")
    p.add_argument("--results-dir", default="results", help="where runs are written (default: results/)")
    p.add_argument("--data-dir", default=None, help="offline datasets (layout of shared/data); or ORCHESTRATE_DATA_DIR")
    p.add_argument("--data", choices=["real", "synthetic"], default=None, help="override the profile's data source")
    p.add_argument("--run-id", default=None, help="name of the run (default: a timestamp)")
    p.add_argument("--timeout", type=float, default=None, help="per-cell timeout in seconds (overrides the profile)")
    p.add_argument("--cache-dir", default=None, help="project cache directory (default: .orchestrate beside the matrix)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, console: Console) -> int:
    loaded = load_matrix(args.matrix)
    everything = args.all and not (args.envs or args.workloads)
    cells = expand(
        loaded, profile=args.profile,
        environments=args.envs or (list(loaded.matrix.environments) if everything else None),
        workloads=args.workloads or (list(loaded.matrix.workloads) if everything else None),
        data=args.data, timeout_s=args.timeout,
    )
    data = data_dir(args.data_dir)
    run_id = args.run_id or dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    run_dir = RunDir(Path(args.results_dir), run_id)
    run_dir.ensure_writable()
    runtime = make_runtime(args.runtime, loaded, args.cache_dir, console)
    console.print(f"run [bold]{run_id}[/bold]: {len(cells)} cell(s) on the {runtime.name} runtime, "
                  f"data from {data or 'the canonical origins (download cache)'}; results in {run_dir.path}")

    def announce(result: CellResult) -> None:
        console.print(f"  {result.cell_id}: {result.status}" + (f" ({result.reason})" if result.reason else ""))

    scheduler = Scheduler(runtime, RunContext(run_dir=run_dir, data_dir=data), on_result=announce)
    results = scheduler.run(cells)
    report = write_summary(run_dir)
    print_summary(results, console, title=f"Run {run_id}")
    for path, why in report.rejected.items():
        console.print(f"[yellow]ignored {path}: {why}[/yellow]")
    console.print(f"summary: {run_dir.summary_path}")
    return 0 if all(r.status in ("ok", "unsupported", "skipped") for r in results) else 1
