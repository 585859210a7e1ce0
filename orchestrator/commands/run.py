"""`orchestrate run [MATRIX]`: expand the matrix into cells, run them, write results, a summary and the report
(verdicts first; `--no-report` skips it)."""

from __future__ import annotations

import argparse
import datetime as dt
import shlex
from pathlib import Path

from rich.console import Console

from orchestrator.commands._common import data_dir, make_runtime, with_run_options
from orchestrator.commands._options import MAX_MONITOR_HZ, host_port, number, plain_name
from orchestrator.commands.report import save_settings, write_report
from orchestrator.cost import record_costs
from orchestrator.errors import ConfigError
from orchestrator.host import busy_note, host_info, load_average
from orchestrator.matrix import MAX_PRICE_PER_HOUR, MAX_SLOTS, MAX_TIMEOUT_S, LoadedMatrix, expand, load_matrix
from orchestrator.progress import RunProgress
from orchestrator.report.terminal import print_summary
from orchestrator.results import CellResult, RunDir, write_summary
from orchestrator.runtimes.base import RunContext, Runtime
from orchestrator.scheduler import ResumePlan, Scheduler, resume_plan
from orchestrator.verdicts import Settings
from orchestrator import workload_files
from orchestrator.user_models.adhoc import script_workloads, with_model
from orchestrator.user_models.failures import print_failures


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run a matrix of environments x workloads")
    p.add_argument("matrix", nargs="?", default="matrix.yaml")
    p.add_argument("--profile", default=None, help="smoke | quick | article (default: the matrix's default)")
    p.add_argument("--env", action="append", dest="envs", metavar="NAME", help="environment (repeatable)")
    p.add_argument("--workload", action="append", dest="workloads", metavar="NAME", help="workload (repeatable)")
    p.add_argument("--all", action="store_true", help="every environment and workload, not the matrix's default selection")
    p.add_argument("--runtime", default="auto",
                   help="auto | local | docker | ray (auto: docker if an engine with GPUs is here, else local)")
    p.add_argument("--results-dir", default="results", help="where runs are written (default: results/)")
    p.add_argument("--data-dir", default=None, help="offline datasets (layout of shared/data); or ORCHESTRATE_DATA_DIR")
    p.add_argument("--data", choices=["real", "synthetic"], default=None, help="override the profile's data source")
    p.add_argument("--run-id", type=plain_name("--run-id"), default=None,
                   help="name of the run, a folder in --results-dir (default: a timestamp)")
    p.add_argument("--timeout", type=number("--timeout", float, 0.0, MAX_TIMEOUT_S, low_open=True, note="seconds"),
                   default=None, help="per-cell timeout in seconds (overrides the profile)")
    p.add_argument("--cache-dir", default=None, help="project cache directory (default: .orchestrate beside the matrix)")
    p.add_argument("--resume", action="store_true",
                   help="with --run-id: keep the run's valid ok results and run the other cells")
    p.add_argument("--slots", type=number("--slots", int, 1, MAX_SLOTS), default=None,
                   help="cells at once (default: one per GPU, or the matrix's `slots`, else 1 on a CPU-only machine)")
    p.add_argument("--address", type=host_port("--address"), default=None,
                   help="Ray cluster address HOST:PORT for --runtime ray (default: $RAY_ADDRESS)")
    p.add_argument("--no-report", action="store_true",
                   help="do not write the report (verdicts, plots, report.html) at the end of the run")
    p.add_argument("--monitor-hz", type=number("--monitor-hz", float, 0.0, MAX_MONITOR_HZ, note="(0: off)"),
                   default=10.0,
                   help="GPU/CPU sampling rate per second while a cell runs (default 10; 0 turns monitoring off)")
    p.add_argument("--wheels", default=None, metavar="DIR",
                   help="wheels for existing environments (build: none) that lack Keras: installed into a private "
                        "overlay, never into the interpreter, never from the network")
    p.add_argument("--price-per-hour", type=number("--price-per-hour", float, 0.0, MAX_PRICE_PER_HOUR, low_open=True),
                   default=None, metavar="PRICE",
                   help="the machine's price per hour (overrides the matrix's price.per_hour): cost per epoch and run")
    p.add_argument("--model", default=None, metavar="FILE",
                   help="your model file (docs/your-model.md): run it on keras3-tensorflow, keras3-jax and "
                        "keras3-torch at the compare profile, print the verdict and write the report")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, console: Console) -> int:
    loaded = with_run_options(load_matrix(model_matrix(args)), args.wheels, args.price_per_hour)
    loaded = with_model(loaded, args.model) if args.model else loaded
    if args.resume and not args.run_id:
        raise ConfigError("--resume needs --run-id: the id of the run to continue (a folder in --results-dir)")
    data = data_dir(args.data_dir)
    run_id = args.run_id or dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    run_dir = RunDir(Path(args.results_dir), run_id)
    if args.resume and not run_dir.cells_dir.is_dir():
        raise ConfigError(f"--resume: no run {run_id!r} in {run_dir.path.parent} (no folder {run_dir.cells_dir})")
    run_dir.ensure_writable()
    run_dir.remove_temp_files()
    runtime = make_runtime(args.runtime, loaded, args.cache_dir, console)
    if args.address is not None:
        if not hasattr(runtime, "address"):
            raise ConfigError(f"--address is for --runtime ray, not --runtime {args.runtime}")
        runtime.address = args.address  # type: ignore[attr-defined]
    try:
        return _run(args, console, loaded, runtime, run_dir, data)
    finally:
        runtime.close()


def model_matrix(args: argparse.Namespace) -> str:
    """The matrix to read: the one named; with --model and no matrix here, the project's own matrix.yaml."""
    if args.model and args.matrix == "matrix.yaml" and not Path(args.matrix).is_file():
        return str(workload_files.workloads_dir().parent / "matrix.yaml")
    return args.matrix


def chosen(args: argparse.Namespace, loaded: LoadedMatrix) -> dict[str, list[str] | None]:
    """The environments and workloads asked for (None: the matrix's default selection for that side).

    `--all` fills what --env / --workload leave open: `--env cntk --all` is cntk on every workload.
    """
    return {
        "environments": args.envs or (list(loaded.matrix.environments) if args.all else None),
        "workloads": args.workloads or (list(loaded.matrix.workloads) if args.all else None),
    }


def _run(args: argparse.Namespace, console: Console, loaded: LoadedMatrix, runtime: Runtime, run_dir: RunDir,
         data: Path | None) -> int:
    selection = dict(profile=args.profile, **chosen(args, loaded), data=args.data, timeout_s=args.timeout)
    expand(loaded, **selection)  # a bad selection is reported before any slot or cluster is set up
    slots = runtime.slots(args.slots or loaded.matrix.slots)
    slot_cores = min((len(s.cpus) for s in slots), default=0) or None
    cells = expand(loaded, **selection, threads=slot_cores)  # threads: the cores of a slot, unless the matrix sets them
    kept: list[CellResult] = []
    if args.resume:
        plan = resume_plan(cells, run_dir)
        _print_resume(console, plan, len(cells))
        cells, kept = plan.to_run, plan.kept
    console.print(f"run [bold]{run_dir.run_id}[/bold]: {len(cells)} cell(s) on the {runtime.name} runtime, "
                  f"{len(slots)} slot(s) ({', '.join(s.name for s in slots)}), "
                  f"data from {data or 'the canonical origins (download cache)'}; results in {run_dir.path}")
    busy = busy_note(load_average(), host_info().cpu_count) if runtime.name != "ray" else None  # Ray: the nodes'
    if busy:
        console.print(f"[yellow]warning:[/yellow] {busy}")
    scheduler = Scheduler(runtime, RunContext(run_dir=run_dir, data_dir=data, monitor_hz=args.monitor_hz),
                          slots=slots, retries=loaded.matrix.retries,
                          observer=RunProgress(console, run_dir.logs_dir))
    with scheduler.observer:  # type: ignore[attr-defined]
        results = scheduler.run(cells)
    results = record_costs(run_dir, results, loaded.matrix.price)
    report = write_summary(run_dir)
    print_summary(kept + results, console, title=f"Run {run_dir.run_id}")
    print_failures(results, script_workloads(loaded), console)
    for path, why in report.rejected.items():
        console.print(f"ignored {path}: {why}", style="yellow", markup=False, highlight=False)
    console.print(f"summary: {run_dir.summary_path}")
    m = loaded.matrix
    settings = Settings(m.reference, m.tie_threshold, m.alpha)
    save_settings(run_dir.path, settings)  # `orchestrate report` judges the run the same way later
    interrupted = bool(scheduler.interrupts or scheduler.not_run)
    if interrupted and not args.no_report:  # stop promptly; the report can be made from what was written
        console.print(f"report: not written (interrupted); `orchestrate report {run_dir.path}` makes it",
                      markup=False, highlight=False, soft_wrap=True)
    elif not args.no_report and report.results:
        write_report(run_dir.path, report, run_dir.path / "report", console, settings)
    if interrupted:
        console.print(f"[yellow]interrupted: {len(results)} cell(s) written, {len(scheduler.not_run)} not run.[/yellow]"
                      " To continue, run:", highlight=False)
        console.print(resume_command(args, run_dir.run_id), markup=False, highlight=False, soft_wrap=True)
        return 130
    return 0 if all(r.status in ("ok", "unsupported") for r in kept + results) else 1


def _print_resume(console: Console, plan: ResumePlan, total: int) -> None:
    console.print(f"resume: {len(plan.kept)} of {total} cell(s) already have a valid ok result and are skipped; "
                  f"{len(plan.to_run)} to run")
    for cell_id, why in plan.rerun.items():
        console.print(f"  rerun {cell_id}: {why}", markup=False, highlight=False)
    for path, why in plan.rejected.items():
        console.print(f"  ignored {path}: {why}", style="yellow", markup=False, highlight=False)


def resume_command(args: argparse.Namespace, run_id: str) -> str:
    """The command line that continues this run."""
    words = ["orchestrate", "run", args.matrix]
    for flag, value in (("--profile", args.profile), ("--runtime", args.runtime if args.runtime != "auto" else None),
                        ("--results-dir", args.results_dir), ("--data-dir", args.data_dir), ("--data", args.data),
                        ("--timeout", args.timeout), ("--cache-dir", args.cache_dir), ("--slots", args.slots),
                        ("--address", args.address), ("--wheels", args.wheels),
                        ("--price-per-hour", args.price_per_hour), ("--model", getattr(args, "model", None))):
        if value is not None:
            words += [flag, str(value)]
    for env in args.envs or []:
        words += ["--env", env]
    for workload in args.workloads or []:
        words += ["--workload", workload]
    if args.all:
        words.append("--all")
    if args.no_report:
        words.append("--no-report")
    return shlex.join([*words, "--run-id", run_id, "--resume"])
