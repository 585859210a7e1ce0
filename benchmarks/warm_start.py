"""Would a warm start (a fork server) measure what fresh processes measure? The same cell timed two ways, alternating:

  A. fresh: workloads/harness.py as a new process (the environment's interpreter, the cell's process environment),
     process wall from launch to exit;
  B. fork child: one long-lived parent per benchmark, started with the same interpreter, environment and cwd,
     imports numpy, harness and compat (the framework) once, then forks a child per repeat that runs
     harness.main(); process wall from fork to exit (measured in the parent).

The question: if a parent imports the framework once and forks a fresh child for each repeat, do the children's
training times match fresh processes'? Each run's steady s/epoch is the median of its epochs after the first.

Rule: ADOPT only if the children's median steady s/epoch lies within the fresh processes' interval for the median
(order statistics; the range of the repeats below 6, its coverage stated), and the children's spread is not much
smaller than the fresh ones' (CV child >= CV_FLOOR x CV fresh: children cloned from one parent must not hide the
between-process variation that fresh repeats show; the CV is robust, 1.4826 x the MAD of the log times). A child that fails or hangs: the warm start is not usable for
that backend. Also printed: the ratio child / fresh with its interval (verdicts.pair_test), both CVs, import_s
from each run's start event (near 0 in children: the parent imported) and the start-up seconds saved per cell.

    ORCHESTRATE_DATA_DIR=/work/shared/data .venv/bin/python benchmarks/warm_start.py \\
        --cache-dir /work/main/.orchestrate-test --env keras3-jax --pairs 6
"""

from __future__ import annotations

import argparse
import json
import math
import os
import queue
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from orchestrator.analysis.stats import estimate, steady_state
from orchestrator.analysis.verdicts.pairs import pair_test
from orchestrator.config.expand import expand
from orchestrator.config.load import load_matrix
from orchestrator.core import workload_files
from orchestrator.environments.layout import cache_dir, cell_process_env
from orchestrator.execution.process import read_events
from orchestrator.execution.spec import make_spec
from orchestrator.runtimes.local import LocalRuntime

PROFILE = "warm-start"
FRESH, CHILD = "A fresh", "B fork child"
CV_FLOOR = 0.5  # the children's CV may not fall below half the fresh processes' CV
READY_TIMEOUT_S = 600.0  # the parent's framework import

# The fork server, run with the environment's interpreter (`python -c DRIVER WORKLOADS_DIR`): plain Python 3.6.
# Protocol on its stdout (a dup of fd 1; fd 1 itself is pointed at stderr so stray prints cannot corrupt it):
# "ready <import s> <pid>", then per "run <spec> <events> <log>" line on stdin: "forked <pid>" and
# "done <returncode> <wall s from fork to exit>"; "quit" ends it.
DRIVER = r'''
import os
import sys
import time

sys.path.insert(0, sys.argv[1])
PROTO = os.fdopen(os.dup(1), "w")
os.dup2(2, 1)


def say(text):
    PROTO.write(text + "\n")
    PROTO.flush()


def child(spec, events, log):
    code = 70
    try:
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
        try:
            sys.exit(harness.main(["--spec", spec, "--events", events]))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        import traceback
        traceback.print_exc()
        code = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        os._exit(code)


import numpy  # noqa: E402
import harness  # noqa: E402
t0 = time.perf_counter()
import compat  # noqa: E402  (the framework import, once, in the parent)
say("ready %.4f %d" % (time.perf_counter() - t0, os.getpid()))

while True:
    line = sys.stdin.readline()
    if not line:
        break
    parts = line.split()
    if not parts:
        continue
    if parts[0] == "quit":
        break
    if parts[0] != "run" or len(parts) != 4:
        say("error bad command: %r" % line)
        continue
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        child(parts[1], parts[2], parts[3])
    say("forked %d" % pid)
    _, status = os.waitpid(pid, 0)
    wall = time.perf_counter() - t0
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else -os.WTERMSIG(status)
    say("done %d %.4f" % (code, wall))
'''


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


def write_matrix(source: Path, work: Path, args: argparse.Namespace) -> Path:
    """The matrix with one more profile; requirements copied beside it so the environment hash is unchanged."""
    raw = yaml.safe_load(source.read_text())
    profile = {"description": "warm start benchmark", "epochs": args.epochs, "timeout_s": 3600}
    if args.train_samples:
        profile["train_samples"] = args.train_samples
    if args.test_samples:
        profile["test_samples"] = args.test_samples
    raw["profiles"][PROFILE] = profile
    shutil.copytree(source.parent / "requirements", work / "requirements", dirs_exist_ok=True)
    path = work / "matrix.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


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
    """The long-lived parent: started once, one child forked per `run`, stopped by `close`."""

    def __init__(self, python: str, env: dict[str, str], work: Path, timeout: float):
        self.timeout = timeout
        self.stderr_path = work / "fork-parent.stderr.log"
        self.stderr = self.stderr_path.open("w")
        workloads = str(workload_files.workloads_dir())
        self.proc = subprocess.Popen([python, "-c", DRIVER, workloads], env=env, cwd=workloads, text=True,
                                     bufsize=1, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr)
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        try:
            self.import_s = float(self._expect("ready", READY_TIMEOUT_S)[1])
        except ArmFailed:
            self.close()
            raise

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.strip())
        self.lines.put(None)

    def _expect(self, word: str, timeout: float) -> list[str]:
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise ArmFailed(f"fork parent: no '{word}' within {timeout:.0f} s\n{self.parent_log()}") from None
        if line is None or not line.startswith(word):
            raise ArmFailed(f"fork parent: expected '{word}', got {line!r}\n{self.parent_log()}")
        return line.split()

    def parent_log(self) -> str:
        self.stderr.flush()
        return self.stderr_path.read_text()[-3000:]

    def run(self, spec: Path, events: Path) -> Run:
        log = events.with_suffix(".log")
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"run {spec} {events} {log}\n")
        self.proc.stdin.flush()
        pid = int(self._expect("forked", 60.0)[1])
        try:
            done = self._expect("done", self.timeout)
        except ArmFailed:
            os.kill(pid, signal.SIGKILL)  # the hung child, by its PID
            self._expect("done", 60.0)
            raise ArmFailed(f"fork child {pid} hung: killed after {self.timeout:.0f} s\n{tail(log)}") from None
        code, wall = int(done[1]), float(done[2])
        if code != 0:
            raise ArmFailed(f"fork child {pid} failed (exit {code}):\n{tail(log)}")
        return read_run(events, wall, tail(log))

    def close(self) -> None:
        try:
            if self.proc.poll() is None and self.proc.stdin is not None:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.flush()
            self.proc.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            if self.proc.poll() is None:
                os.kill(self.proc.pid, signal.SIGKILL)  # by its PID, never by name
                self.proc.wait()
        self.stderr.close()


def tail(path: Path) -> str:
    return path.read_text(errors="replace")[-3000:] if path.exists() else "(no log)"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    data_dir = args.data_dir or os.environ.get("ORCHESTRATE_DATA_DIR")
    args.data_dir = str(Path(data_dir).resolve()) if data_dir else None
    work = Path(args.work_dir or tempfile.mkdtemp(prefix="warm-start-")).resolve()
    work.mkdir(parents=True, exist_ok=True)
    try:
        return measure(args, work)
    finally:
        if not args.work_dir:
            shutil.rmtree(work, ignore_errors=True)


def measure(args: argparse.Namespace, work: Path) -> int:
    source = Path(args.matrix).resolve()
    matrix = write_matrix(source, work, args)
    loaded = load_matrix(matrix)
    cache = cache_dir(args.cache_dir, load_matrix(source))  # the same cache as the real matrix
    prepared = LocalRuntime(loaded, cache, log=print).prepare(args.env)
    cell = expand(loaded, profile=PROFILE, environments=[args.env], workloads=[args.workload])[0]
    spec = work / "cell.spec.json"
    spec.write_text(json.dumps(make_spec(cell, prepared, loaded, args.data_dir, str(cache / "datasets"))))
    env = cell_process_env(prepared.paths, prepared.environment, cell.threads, cell.seed)
    command = [str(prepared.paths.python), str(workload_files.harness_path()), "--spec", str(spec)]
    print(f"cell {cell.cell_id}: {cell.epochs} epochs, train samples {cell.train_samples or 'all'}, "
          f"{cell.threads} threads; {args.pairs} pairs, alternating")

    try:
        server = ForkServer(str(prepared.paths.python), env, work, args.timeout)
    except ArmFailed as exc:
        print(exc)
        print(f"{args.env}: DO NOT ADOPT (the warm start is not usable for this backend: {str(exc).splitlines()[0]})")
        return 0
    print(f"fork parent {server.proc.pid}: framework import {server.import_s:.2f} s")
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


def percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def median_or_dash(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} s" if values else "-"


if __name__ == "__main__":
    sys.exit(main())
