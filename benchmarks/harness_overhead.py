"""What does the orchestrator cost a measurement? The same cell timed two ways, alternating:

  A. through `orchestrate run` (the local runtime, the monitor sampling at --monitor-hz, default 10 Hz);
  B. by running workloads/harness.py directly with the same interpreter, spec and process environment.

Prints each run's steady-state s/epoch (median of the epochs after the first), the median of each arm and
the ratio A/B. Target: <= 1.01 with the monitor on at 10 Hz. Numbers on a shared machine are noisy; the
order alternates (A B, B A, ...) so drift hits both arms alike.

    .venv/bin/python benchmarks/harness_overhead.py --data-dir ../shared/data [--pairs 3] [--epochs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import yaml

from orchestrator.core import workload_files
from orchestrator.execution.process import read_events
from orchestrator.execution.spec import make_spec
from orchestrator.environments.layout import cache_dir, cell_process_env
from orchestrator.config.cell import Cell
from orchestrator.config.expand import expand
from orchestrator.config.load import load_matrix
from orchestrator.results.io import read_cell
from orchestrator.runtimes.local import LocalRuntime
from orchestrator.analysis.stats import steady_state

PROFILE = "overhead"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--matrix", default=str(Path(__file__).resolve().parent.parent / "matrix.yaml"))
    p.add_argument("--env", default="keras3-jax")
    p.add_argument("--workload", default="mnist_mlp")
    p.add_argument("--epochs", type=int, default=5, help="epochs per run (the first is not counted)")
    p.add_argument("--train-samples", type=int, default=None, help="default: the whole training set")
    p.add_argument("--test-samples", type=int, default=None)
    p.add_argument("--pairs", type=int, default=3, help="A/B pairs (each arm runs this many times)")
    p.add_argument("--monitor-hz", type=float, default=10.0)
    p.add_argument("--data-dir", default=None, help="offline datasets (or ORCHESTRATE_DATA_DIR)")
    p.add_argument("--cache-dir", default=None, help="project cache directory (environments are reused)")
    p.add_argument("--work-dir", default=None, help="where the runs go (default: a temporary folder, removed)")
    return p.parse_args(argv)


def write_matrix(source: Path, work: Path, args: argparse.Namespace) -> Path:
    """The matrix with one more profile; requirements copied beside it so the environment hash is unchanged."""
    raw = yaml.safe_load(source.read_text())
    profile = {"description": "harness overhead benchmark", "epochs": args.epochs, "timeout_s": 3600}
    if args.train_samples:
        profile["train_samples"] = args.train_samples
    if args.test_samples:
        profile["test_samples"] = args.test_samples
    raw["profiles"][PROFILE] = profile
    if args.env in raw["environments"]:  # fresh processes in both arms: the orchestrator's cost, not a warm start's
        raw["environments"][args.env]["warm_start"] = False
    shutil.copytree(source.parent / "requirements", work / "requirements", dirs_exist_ok=True)
    path = work / "matrix.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


MONITOR_COST: list[float] = []  # the sampling thread's CPU seconds per second of cell, from arm A's results


def through_orchestrate(matrix: Path, work: Path, args: argparse.Namespace, cache: Path, i: int) -> list[float]:
    run_id = f"orchestrate-{i}"
    command = [sys.executable, "-m", "orchestrator.cli", "run", str(matrix), "--profile", PROFILE,
               "--env", args.env, "--workload", args.workload, "--results-dir", str(work / "results"),
               "--run-id", run_id, "--cache-dir", str(cache), "--monitor-hz", str(args.monitor_hz)]
    if args.data_dir:
        command += ["--data-dir", args.data_dir]
    proc = subprocess.run(command, capture_output=True, text=True)
    cells = sorted((work / "results" / run_id / "cells").glob("*.json"))
    if proc.returncode != 0 or not cells:
        sys.exit(f"orchestrate run failed (exit {proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    result = read_cell(cells[0])
    monitor = result.monitor or {}
    if args.monitor_hz > 0 and not monitor.get("samples"):
        sys.exit("the monitor recorded no samples: the A arm did not measure what it should")
    if monitor.get("self_cpu_s") is not None and monitor.get("duration_s"):
        MONITOR_COST.append(monitor["self_cpu_s"] / monitor["duration_s"])
    return result.timings.epochs_s


def directly(command: list[str], env: dict[str, str], events: Path) -> list[float]:
    events.unlink(missing_ok=True)  # the harness appends
    proc = subprocess.run(command, env=env, cwd=workload_files.workloads_dir(), capture_output=True, text=True)
    epochs = [float(e["seconds"]) for e in read_events(events) if e.get("event") == "epoch"]
    if proc.returncode != 0 or not epochs:
        sys.exit(f"the harness failed (exit {proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return epochs


def main(argv: list[str] | None = None) -> int:
    return in_work_dir(parse_args(argv), measure, "harness-overhead-")


def in_work_dir(args: argparse.Namespace, measure: Callable[[argparse.Namespace, Path], int], prefix: str) -> int:
    """`measure(args, work)` with the data folder resolved and a work folder (a temporary one, removed after)."""
    data_dir = args.data_dir or os.environ.get("ORCHESTRATE_DATA_DIR")
    args.data_dir = str(Path(data_dir).resolve()) if data_dir else None
    work = Path(args.work_dir or tempfile.mkdtemp(prefix=prefix)).resolve()
    work.mkdir(parents=True, exist_ok=True)
    try:
        return measure(args, work)
    finally:
        if not args.work_dir:
            shutil.rmtree(work, ignore_errors=True)


@dataclass(frozen=True)
class DirectCell:
    """The benchmark's one cell, set up to run the harness directly: its spec written, its process environment."""

    matrix: Path
    cache: Path
    cell: Cell
    python: str
    spec: Path
    env: dict[str, str]

    def command(self, events: Path) -> list[str]:
        return [self.python, str(workload_files.harness_path()), "--spec", str(self.spec), "--events", str(events)]


def direct_cell(args: argparse.Namespace, work: Path) -> DirectCell:
    source = Path(args.matrix).resolve()
    matrix = write_matrix(source, work, args)
    loaded = load_matrix(matrix)
    cache = cache_dir(args.cache_dir, load_matrix(source))  # the same cache as the real matrix
    prepared = LocalRuntime(loaded, cache, log=print).prepare(args.env)
    cell = expand(loaded, profile=PROFILE, environments=[args.env], workloads=[args.workload])[0]
    spec = work / "direct.spec.json"
    spec.write_text(json.dumps(make_spec(cell, prepared, loaded, args.data_dir, str(cache / "datasets"))))
    env = cell_process_env(prepared.paths, prepared.environment, cell.threads, cell.seed)
    return DirectCell(matrix, cache, cell, str(prepared.paths.python), spec, env)


def measure(args: argparse.Namespace, work: Path) -> int:
    direct = direct_cell(args, work)
    matrix, cache, cell, env = direct.matrix, direct.cache, direct.cell, direct.env
    events_path = work / "direct.events.jsonl"
    command = direct.command(events_path)

    print(f"cell {cell.cell_id}: {cell.epochs} epochs, train samples {cell.train_samples or 'all'}, "
          f"{cell.threads} threads; monitor at {args.monitor_hz:g} Hz in arm A; {args.pairs} pairs, alternating")
    arms: dict[str, list[float]] = {"A orchestrate run": [], "B harness directly": []}
    for i in range(args.pairs):
        order = ["A orchestrate run", "B harness directly"] if i % 2 == 0 else ["B harness directly",
                                                                                "A orchestrate run"]
        for arm in order:
            start = time.perf_counter()
            epochs = through_orchestrate(matrix, work, args, cache, i) if arm.startswith("A") else \
                directly(command, env, events_path)
            steady = steady_state(epochs)
            if steady is None:
                sys.exit("need at least two epochs for a steady state: raise --epochs")
            arms[arm].append(steady)
            print(f"  pair {i + 1} {arm:20s} steady {steady:.4f} s/epoch  epochs "
                  f"{', '.join(f'{s:.3f}' for s in epochs)}  (wall {time.perf_counter() - start:.1f} s)")
    a, b = (statistics.median(v) for v in arms.values())
    paired = [x / y for x, y in zip(*arms.values())]
    print(f"median steady s/epoch: A (orchestrate run, monitor {args.monitor_hz:g} Hz) {a:.4f}, "
          f"B (harness directly) {b:.4f}")
    print(f"ratio A/B = {a / b:.4f} (target <= 1.01); per pair: {', '.join(f'{r:.3f}' for r in paired)}")
    if MONITOR_COST:
        cost = statistics.median(MONITOR_COST)
        print(f"the monitor's sampling thread used {1000 * cost:.1f} ms of CPU per second of cell "
              f"({100 * cost:.2f}% of one core; the cell had {cell.threads} thread(s))")
    print("note: on a shared machine the spread between runs of the same arm is a measure of the noise")
    return 0


if __name__ == "__main__":
    sys.exit(main())
