"""Would a warm start (a fork server) measure what fresh processes measure? The same cell timed two ways, alternating:

  A. fresh: workloads/harness.py as a new process (the environment's interpreter, the cell's process environment),
     process wall from launch to exit;
  B. fork child: the runtime's own warm parent (orchestrator/execution/warm.py, workloads/warm_parent.py), started
     once with the same interpreter and environment, imports numpy, harness and compat (the framework) once, then
     forks a child per repeat that runs harness.main(); process wall from the request to the child's exit.

The question: if a parent imports the framework once and forks a fresh child for each repeat, do the children's
training times match fresh processes'? Each run's steady s/epoch is the median of its epochs after the first.

Rule: ADOPT only if the children's median steady s/epoch lies within the fresh processes' interval for the median
(order statistics; the range of the repeats below 6, its coverage stated), and the children's spread is not much
smaller than the fresh ones' (CV child >= CV_FLOOR x CV fresh: children cloned from one parent must not hide the
between-process variation that fresh repeats show; the CV is robust, 1.4826 x the MAD of the log times), and the
ratio child / fresh neither differs from 1 (its interval holds 1) nor is estimated more than BIAS away from it (a
possible bias of 12-17% in a timing tool is too much, whatever its p). A child that fails or hangs: the warm start
is not usable for that backend. Also printed: the ratio child / fresh with its interval (verdicts.pair_test), both CVs, import_s
from each run's start event (near 0 in children: the parent imported) and the start-up seconds saved per cell.

    ORCHESTRATE_DATA_DIR=/work/shared/data .venv/bin/python benchmarks/warm_start.py \\
        --cache-dir /work/main/.orchestrate-test --env keras3-jax --pairs 6
"""

from __future__ import annotations

import argparse
import math
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from harness_overhead import direct_cell, in_work_dir  # the same cell set-up (this folder is on sys.path)
from orchestrator.analysis.stats import estimate, steady_state
from orchestrator.analysis.verdicts.pairs import pair_test
from orchestrator.core import workload_files
from orchestrator.core.errors import InfrastructureError
from orchestrator.execution.process import Limits, read_events
from orchestrator.execution.warm import WarmParent

FRESH, CHILD = "A fresh", "B fork child"
CV_FLOOR = 0.5  # the children's CV may not fall below half the fresh processes' CV
BIAS = 0.05  # the ratio child / fresh must be estimated within 5% of 1 (the verdicts' tie threshold)

@dataclass
class Run:
    """One repeat: its steady s/epoch, its epochs, the process wall and the framework import_s it reported."""

    steady: float
    epochs: list[float]
    wall_s: float
    import_s: float | None


@dataclass
class Arm:
    runs: list[Run] = field(default_factory=list)

    def values(self, name: str) -> list[float]:
        return [getattr(r, name) for r in self.runs if getattr(r, name) is not None]


class ArmFailed(Exception):
    """A run failed or hung; the message says which and carries its log."""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--matrix", default=str(Path(__file__).resolve().parent.parent / "matrix.yaml"))
    p.add_argument("--env", default="keras3-jax")
    p.add_argument("--workload", default="mnist_mlp")
    p.add_argument("--epochs", type=int, default=4, help="epochs per run (the first is not counted)")
    p.add_argument("--train-samples", type=int, default=6000)
    p.add_argument("--test-samples", type=int, default=1000)
    p.add_argument("--pairs", type=int, default=6, help="A/B pairs (each arm runs this many times)")
    p.add_argument("--timeout", type=float, default=300.0, help="seconds before a run is killed as hung")
    p.add_argument("--data-dir", default=None, help="offline datasets (or ORCHESTRATE_DATA_DIR)")
    p.add_argument("--cache-dir", default=None, help="project cache directory (environments are reused)")
    p.add_argument("--work-dir", default=None, help="where the runs go (default: a temporary folder, removed)")
    return p.parse_args(argv)


def read_run(events: Path, wall_s: float, log: str) -> Run:
    """Steady s/epoch and import_s from a run's events file; ArmFailed when it has no epochs."""
    found = read_events(events) if events.exists() else []
    epochs = [float(e["seconds"]) for e in found if e.get("event") == "epoch"]
    start = next((e for e in found if e.get("event") == "start"), {})
    steady = steady_state(epochs)
    if steady is None:
        errors = [e for e in found if e.get("event") == "error"]
        raise ArmFailed(f"no steady state ({len(epochs)} epochs; errors {errors})\n{log}")
    return Run(steady, epochs, wall_s, start.get("import_s"))


def run_fresh(command: list[str], env: dict[str, str], events: Path, timeout: float) -> Run:
    start = time.perf_counter()
    try:
        proc = subprocess.run(command + ["--events", str(events)], env=env, cwd=workload_files.workloads_dir(),
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:  # subprocess.run killed the process (by its PID)
        raise ArmFailed(f"fresh process hung: killed after {timeout:.0f} s\n{exc.stderr!s:.3000}") from exc
    wall = time.perf_counter() - start
    log = f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    if proc.returncode != 0:
        raise ArmFailed(f"fresh process failed (exit {proc.returncode}):\n{log}")
    return read_run(events, wall, log)


class ForkServer:
    """The runtime's own warm parent (orchestrator/execution/warm.py running workloads/warm_parent.py): started
    once, one child forked per `run`, stopped by `close`."""

    def __init__(self, python: str, env: dict[str, str], work: Path, timeout: float):
        self.timeout = timeout
        self.stderr_path = work / "fork-parent.log"
        workloads = workload_files.workloads_dir()
        try:
            self.parent = WarmParent(python, workloads / "warm_parent.py", env, workloads, self.stderr_path)
        except InfrastructureError as exc:
            raise ArmFailed(str(exc)) from exc
        self.import_s = self.parent.import_s
        self.pid = self.parent.pid

    def run(self, spec: Path, events: Path) -> Run:
        log = events.with_suffix(".log")
        outcome = self.parent.run(spec, events, log, self.timeout, Limits())
        if outcome.timed_out:
            raise ArmFailed(f"fork child hung: stopped after {self.timeout:.0f} s\n{tail(log)}")
        if outcome.returncode != 0:
            raise ArmFailed(f"fork child failed (exit {outcome.returncode}):\n{tail(log)}")
        return read_run(events, outcome.wall_s, tail(log))

    def close(self) -> None:
        self.parent.stop()


def tail(path: Path) -> str:
    return path.read_text(errors="replace")[-3000:] if path.exists() else "(no log)"


def main(argv: list[str] | None = None) -> int:
    return in_work_dir(parse_args(argv), measure, "warm-start-")


def measure(args: argparse.Namespace, work: Path) -> int:
    direct = direct_cell(args, work)
    cell, env, spec = direct.cell, direct.env, direct.spec
    command = direct.command(work / "unused")[:-2]  # run_fresh adds each run's --events
    print(f"cell {cell.cell_id}: {cell.epochs} epochs, train samples {cell.train_samples or 'all'}, "
          f"{cell.threads} threads; {args.pairs} pairs, alternating")

    try:
        server = ForkServer(direct.python, env, work, args.timeout)
    except ArmFailed as exc:
        print(exc)
        print(f"{args.env}: DO NOT ADOPT (the warm start is not usable for this backend: {str(exc).splitlines()[0]})")
        return 0
    print(f"fork parent {server.pid}: framework import {server.import_s:.2f} s")
    arms = {FRESH: Arm(), CHILD: Arm()}
    failure = None
    try:
        failure = run_pairs(args, work, command, env, spec, server, arms)
    finally:
        server.close()
    warnings = server.stderr_path.read_text().strip()
    if warnings:
        print(f"fork parent stderr:\n{warnings[-3000:]}")
    print(summary(args.env, arms, failure))
    return 0


def run_pairs(args: argparse.Namespace, work: Path, command: list[str], env: dict[str, str], spec: Path,
              server: ForkServer, arms: dict[str, Arm]) -> str | None:
    """The alternating pairs; the reason when a run failed or hung (the rest are then skipped)."""
    for i in range(args.pairs):
        for arm in [FRESH, CHILD] if i % 2 == 0 else [CHILD, FRESH]:
            events = work / f"{'fresh' if arm == FRESH else 'child'}-{i + 1}.events.jsonl"
            try:
                run = run_fresh(command, env, events, args.timeout) if arm == FRESH else server.run(spec, events)
            except ArmFailed as exc:
                print(f"  pair {i + 1} {arm}: {exc}")
                return str(exc).splitlines()[0]
            arms[arm].runs.append(run)
            import_s = f"{run.import_s:.3f}" if run.import_s is not None else "-"
            print(f"  pair {i + 1} {arm:13s} steady {run.steady:.4f} s/epoch  epochs "
                  f"{', '.join(f'{s:.3f}' for s in run.epochs)}  wall {run.wall_s:.2f} s  import_s {import_s}")
    return None


def cv(values: list[float]) -> float | None:
    """A robust coefficient of variation: 1.4826 x the median absolute deviation of the log times (the CV for
    lognormal times; one slow repeat among 5-8 does not make it, as it makes the standard deviation)."""
    if len(values) < 3:
        return None
    logs = [math.log(v) for v in values]
    center = statistics.median(logs)
    return 1.4826 * statistics.median(abs(x - center) for x in logs)


def summary(name: str, arms: dict[str, Arm], failure: str | None) -> str:
    fresh, child = arms[FRESH], arms[CHILD]
    if failure is not None and failure.startswith("fresh"):
        return f"{name}: no result: {failure}"
    if failure is not None:
        return f"{name}: DO NOT ADOPT (the warm start is not usable for this backend: {failure})"
    a, b = fresh.values("steady"), child.values("steady")
    interval = estimate(a)
    test = pair_test(a, b)
    cv_a, cv_b = cv(a), cv(b)
    wall_a, wall_b = statistics.median(fresh.values("wall_s")), statistics.median(child.values("wall_s"))
    print(f"median steady s/epoch: fresh {statistics.median(a):.4f} (interval {interval.describe(4)}), "
          f"child {statistics.median(b):.4f}; pair test: {test.verdict}, p {test.describe_p()}")
    print(f"median import_s: fresh {median_or_dash(fresh.values('import_s'))}, "
          f"child {median_or_dash(child.values('import_s'))}")
    reasons = adoption_problems(statistics.median(b), interval.low, interval.high, cv_a, cv_b)
    reasons += ratio_problems(test.ratio, test.low, test.high)
    verdict = "ADOPT" if not reasons else f"DO NOT ADOPT ({'; '.join(reasons)})"
    return (f"{name}: fork child / fresh steady s/epoch = {test.describe()}; CV fresh {percent(cv_a)}, "
            f"child {percent(cv_b)}; start-up saved {wall_a - wall_b:.1f} s a cell (fresh wall {wall_a:.1f} s, "
            f"child {wall_b:.1f} s): {verdict}")


def adoption_problems(child_median: float, low: float | None, high: float | None, cv_fresh: float | None,
                      cv_child: float | None) -> list[str]:
    problems = []
    if low is None or high is None:
        problems.append("no interval for the fresh median: more pairs needed")
    elif not low <= child_median <= high:
        problems.append(f"child median {child_median:.4f} outside the fresh interval [{low:.4f}, {high:.4f}]")
    if cv_fresh is not None and cv_child is not None and cv_child < CV_FLOOR * cv_fresh:
        problems.append(f"child CV {percent(cv_child)} below {CV_FLOOR:g} x fresh CV {percent(cv_fresh)}")
    return problems


def ratio_problems(ratio: float | None, low: float | None, high: float | None) -> list[str]:
    """Why the ratio child / fresh rules the warm start out: its interval excludes 1, or it is more than BIAS
    from 1."""
    if ratio is None or low is None or high is None:
        return ["no ratio interval: more pairs needed"]
    problems = []
    if not low <= 1 <= high:
        problems.append(f"children differ from fresh processes: {ratio:.3g} [{low:.3g}, {high:.3g}]")
    if abs(math.log(ratio)) > math.log1p(BIAS):
        problems.append(f"ratio {ratio:.3g} more than {BIAS:.0%} from 1")
    return problems


def percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def median_or_dash(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} s" if values else "-"


if __name__ == "__main__":
    sys.exit(main())
