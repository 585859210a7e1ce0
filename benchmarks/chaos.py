"""Chaos soak: a long matrix of short cells under many mixed faults, then proof that nothing was lost or counted twice.

    .venv/bin/python benchmarks/chaos.py                     # the full soak: 200 local cells + 20 on Ray
    .venv/bin/python benchmarks/chaos.py --ci                # the CI form (tests/test_chaos.py): tens of cells
    .venv/bin/python benchmarks/chaos.py --seed 1234         # replay a soak's fault sequence

The cells are the `chaotic` test workload (tests/workloads/chaotic.py: two epochs that sleep 0.5 s each) in the
keras3-jax environment, the lightest Keras 3 environment there is (its Keras import takes ~5 s against ~6.5 s for
torch and ~9 s for TensorFlow; the numpy backend imports JAX too); a cell is a real harness process. The run's
folder lies on a small tmpfs (root: mounts), the store is a real PostgreSQL server on 127.0.0.1 and the Ray
phase a private Ray cluster on 127.0.0.1: nothing leaves this machine.

A driver, seeded (the seed is printed first; `--seed` replays the same sequence of faults and delays), injects
faults as the run progresses: each fault fires once a drawn share of the plan's cells is written, after a drawn
delay. Kinds: SIGKILL of a cell's harness, SIGKILL of the orchestrator (then `--resume`), a cell told to hang past
its timeout, the results tmpfs filled (exit 74, freed, `--resume`), the PostgreSQL server stopped and started again
(sometimes across the run's end: the recording fails and the driver runs `orchestrate import`), and on Ray the
worker process running a cell SIGKILLed. Every process is stopped by its pid; every fault is bounded in count.

At the end each phase's run is checked: every planned cell has exactly one final result (ok, failed with its
reason, or timeout) and no other, every JSON file parses and every cell file validates, no temporary or empty
file is left as data, the summary, the verdict's groups and the store count each cell once, and
`orchestrate store verify` shows 0 missing and 0 duplicated. The exit status is 0 when all checks hold, 1 otherwise.
"""

from __future__ import annotations

import argparse
import dataclasses
import errno
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any, Callable

import psutil

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from orchestrator.analysis.stats import group_results  # noqa: E402
from orchestrator.results.io import load_cells  # noqa: E402

ENV = "keras3-jax"
WORKLOAD = "chaotic"
PROFILE = "chaos"
FINAL = ("ok", "failed", "timeout")
KINDS = ("cell_kill", "orchestrator_kill", "hang", "disk_full", "store_stop", "worker_kill")


@dataclasses.dataclass(frozen=True)
class Config:
    """One soak: its seed and size, fault budgets per kind and phase, and where it works."""

    seed: int
    cells: int  # local phase
    ray_cells: int  # 0: no Ray phase
    faults: dict[str, int]  # local phase, per kind
    ray_faults: dict[str, int]
    slots: int = 2
    timeout_s: int = 30
    disk_mb: int = 64
    work: Path = Path(tempfile.gettempdir())
    cache: Path = REPO / ".orchestrate-test"
    attempt_limit_s: float = 900.0  # an orchestrator alive longer than this is a defect: killed and reported


FULL = dict(cells=200, ray_cells=20,
            faults={"cell_kill": 8, "orchestrator_kill": 4, "hang": 4, "disk_full": 3, "store_stop": 4},
            ray_faults={"worker_kill": 4, "orchestrator_kill": 1, "cell_kill": 1})
CI = dict(cells=16, ray_cells=0,
          faults={"cell_kill": 1, "orchestrator_kill": 2, "hang": 1, "disk_full": 1, "store_stop": 2},
          ray_faults={})


@dataclasses.dataclass
class Ledger:
    """What happened: faults injected by kind, resumes, imports, exit codes, and anything unexpected."""

    injected: Counter[str] = dataclasses.field(default_factory=Counter)
    skipped: Counter[str] = dataclasses.field(default_factory=Counter)  # drawn but the run ended first
    resumes: int = 0
    imports: int = 0
    exits: list[int] = dataclasses.field(default_factory=list)
    problems: list[str] = dataclasses.field(default_factory=list)
    findings: list[str] = dataclasses.field(default_factory=list)  # behaviour worth a report, not a lost result

    def say(self, text: str) -> None:
        print(f"[chaos {time.strftime('%H:%M:%S')}] {text}", flush=True)


@dataclasses.dataclass(order=True)
class Trigger:
    """A fault that fires once `done` cells of the run are written and then `delay_s` has passed."""

    done: int
    delay_s: float
    kind: str = dataclasses.field(compare=False)
    store_down_over_end: bool = dataclasses.field(default=False, compare=False)


@dataclasses.dataclass
class Phase:
    """One run of the soak: its id, runtime and plan; `marker` is in every harness command line of the run."""

    run_id: str
    runtime: str
    cells: int
    marker: str
    address: str | None = None

    def cell_ids(self) -> list[str]:
        return [f"{ENV}__{WORKLOAD}__{PROFILE}__r{i}" for i in range(self.cells)]


# ------------------------------------------------------------------------------------------------ the world


def write_matrix(cfg: Config, path: Path, cells: int) -> Path:
    """The test workloads' environment with one workload, `cells` repeats of two epochs, `retries: 2`."""
    path.write_text(f"""version: 1
seed: 1
retries: 2
workloads_dir: {REPO / 'tests' / 'workloads'}
environments:
  {ENV}:
    backend: jax
    keras: "3.15.1"
    python: "3.11"
    requirements: {REPO / 'requirements' / 'keras3-jax.txt'}
workloads:
  {WORKLOAD}: {{dataset: mnist, epochs: 2, batch_size: 16, description: two sleeping epochs; hangs when asked}}
default:
  profile: {PROFILE}
  workloads: [{WORKLOAD}]
profiles:
  {PROFILE}:
    description: many short cells for the chaos soak
    timeout_s: {cfg.timeout_s}
    data: synthetic
    repeats: {cells}
""")
    return path


class Disk:
    """A small tmpfs holding the results directory; `fill` writes until ENOSPC, `free` removes the filler."""

    def __init__(self, root: Path, size_mb: int) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        out = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", str(root)],
                             capture_output=True, text=True)
        if out.returncode != 0:
            raise SystemExit(f"mount tmpfs on {root} failed (the soak needs root): {out.stderr.strip()}")
        self.filler = root / "filler"

    def fill(self) -> None:
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        try:
            while True:
                os.write(fd, b"\0" * 65536)
        except OSError as exc:
            if exc.errno != errno.ENOSPC:
                raise
        finally:
            os.close(fd)

    def free(self) -> bool:
        if not self.filler.exists():
            return False
        self.filler.unlink()
        return True

    def close(self, keep: Path | None) -> None:
        if keep is not None:
            shutil.copytree(self.root, keep, dirs_exist_ok=True, ignore=shutil.ignore_patterns("filler"))
        subprocess.run(["umount", "-l", str(self.root)], capture_output=True)


class Database:
    """The PostgreSQL store (tests/postgres_server.py): started, stopped and started again by its pid."""

    def __init__(self) -> None:
        from postgres_server import create_database, start_server

        self.server = start_server()
        self.url = create_database(self.server, "chaos")
        self.down = False

    def stop(self) -> None:
        from postgres_server import pause_server

        pause_server(self.server)
        self.down = True

    def start(self) -> None:
        from postgres_server import resume_server

        if self.down:
            resume_server(self.server)
            self.down = False

    def close(self) -> None:
        from postgres_server import stop_server

        stop_server(self.server)


def start_ray(work: Path) -> tuple[Any, str]:
    """A private two-slot Ray cluster on 127.0.0.1 (as tests/test_ray_runtime.py starts it)."""
    from orchestrator.runtimes.ray import loopback_env

    loopback_env()
    import ray

    temp = tempfile.mkdtemp(prefix="chaos-ray-", dir="/tmp")  # Ray's socket paths must stay short
    context = ray.init(num_cpus=2, resources={"slot": 2}, include_dashboard=False, _node_ip_address="127.0.0.1",
                       _temp_dir=temp, log_to_driver=False)
    return ray, context.address_info["gcs_address"]


# ------------------------------------------------------------------------------------------------ faults


def harnesses(phase: Phase) -> list[psutil.Process]:
    """The run's harness processes now running, by their command line (spec path under the run's folder)."""
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        line = " ".join(proc.info["cmdline"] or [])
        if "harness.py" in line and phase.marker in line:
            found.append(proc)
    return sorted(found, key=lambda p: p.pid)


def kill_cell(phase: Phase, rng: random.Random) -> bool:
    running = harnesses(phase)
    if not running:
        return False
    victim = rng.choice(running)
    try:
        victim.send_signal(signal.SIGKILL)
    except psutil.NoSuchProcess:
        return False
    return True


def kill_worker(phase: Phase, rng: random.Random) -> bool:
    """SIGKILL the Ray worker process whose child is a running cell's harness."""
    running = harnesses(phase)
    workers = [w for w in (h.parent() for h in running) if w is not None and "ray" in " ".join(w.cmdline()).lower()]
    if not workers:
        return False
    try:
        rng.choice(workers).send_signal(signal.SIGKILL)
    except psutil.NoSuchProcess:
        return False
    return True


def ask_hang(data: Path) -> bool:
    request = data / "chaos" / "hang"
    if request.exists():
        return False  # the previous request is not claimed yet
    request.write_text("hang\n")
    return True


def schedule(rng: random.Random, cells: int, budget: dict[str, int]) -> list[Trigger]:
    """Each fault at a drawn share of the plan written (5%..90%) plus a drawn delay (0..4 s); the last store stop
    of a phase comes late (85%..95%) and lasts over the run's end (the others last 2..15 s)."""
    triggers = []
    for kind in KINDS:
        count = budget.get(kind, 0)
        for i in range(count):
            over_end = kind == "store_stop" and i == count - 1
            at = int(cells * (rng.uniform(0.85, 0.95) if over_end else rng.uniform(0.05, 0.9)))
            triggers.append(Trigger(at, round(rng.uniform(0.0, 4.0), 2), kind, store_down_over_end=over_end))
    return sorted(triggers)


# ------------------------------------------------------------------------------------------------ driving a run


def written(results: Path, phase: Phase) -> int:
    try:
        return sum(1 for p in (results / phase.run_id / "cells").glob("*.json"))
    except OSError:
        return 0


def orchestrate(*args: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen([sys.executable, "-m", "orchestrator.cli", *args], stdout=out,
                                stderr=subprocess.STDOUT, cwd=REPO)


def run_args(cfg: Config, phase: Phase, matrix: Path, results: Path, store: str, data: Path, resume: bool) -> list[str]:
    args = ["run", str(matrix), "--results-dir", str(results), "--run-id", phase.run_id, "--cache-dir",
            str(cfg.cache), "--data-dir", str(data), "--store", store, "--slots", str(cfg.slots), "--monitor-hz", "2"]
    if phase.runtime == "ray":
        args += ["--runtime", "ray", "--address", str(phase.address)]
    return args + (["--resume"] if resume else [])


@dataclasses.dataclass
class World:
    cfg: Config
    disk: Disk
    db: Database
    data: Path
    logs: Path
    rng: random.Random
    ledger: Ledger


def drive(world: World, phase: Phase, matrix: Path, budget: dict[str, int]) -> None:
    """Run the phase to its end through every fault drawn, resuming after each one that stops the orchestrator."""
    results = world.disk.root / "results"
    triggers = schedule(world.rng, phase.cells, budget)
    world.ledger.say(f"{phase.run_id}: {phase.cells} cells on {phase.runtime}; faults drawn: "
                     + ", ".join(f"{t.kind}@{t.done}+{t.delay_s}s" for t in triggers))
    resume, attempt = False, 0
    while True:
        attempt += 1
        log = world.logs / f"{phase.run_id}.{attempt}.log"
        proc = orchestrate(*run_args(world.cfg, phase, matrix, results, world.db.url, world.data, resume), log=log)
        store_over_end = watch(world, phase, proc, triggers, results)
        rc = proc.returncode
        world.ledger.exits.append(rc)
        out = log.read_text(errors="replace")
        if world.disk.free():
            world.ledger.say("results disk freed")
        world.db.start()
        world.ledger.say(f"{phase.run_id}: orchestrator exit {rc} (log {log})")
        if "Traceback" in out:
            world.ledger.problems.append(f"{phase.run_id}: a traceback in {log}")
        if concluded(rc, out):
            finish_store(world, phase, results, rc, out, store_over_end)
            return
        if rc == 3 and attempt <= 40:  # the store was down as the orchestrator started: refused; start again
            world.ledger.say(f"{phase.run_id}: refused at start, the store being down")
        elif rc not in (-signal.SIGKILL, 74) or attempt > 40:
            world.ledger.problems.append(f"{phase.run_id}: unexpected exit {rc} (log {log}): {out[-600:]}")
            if attempt > 40 or rc == 2 and "in use by pid" not in out:
                return
            time.sleep(2)
        resume = True
        world.ledger.resumes += 1


def concluded(rc: int, out: str) -> bool:
    """The run reached its end (every cell has its result, the summary written): exit 0 or 1, or 3 after the
    summary when only the recording failed (a 3 before any cell is a store refused at start)."""
    return rc in (0, 1) or (rc == 3 and "\nsummary: " in out)


def watch(world: World, phase: Phase, proc: subprocess.Popen[bytes], triggers: list[Trigger],
          results: Path) -> bool:
    """Fire the due triggers while the orchestrator runs; True when the store was down as it ended."""
    due_at: float | None = None
    restart_at: float | None = None
    store_over_end = False
    began = time.monotonic()
    while proc.poll() is None:
        time.sleep(0.2)
        now = time.monotonic()
        if now - began > world.cfg.attempt_limit_s:
            world.ledger.problems.append(f"{phase.run_id}: the orchestrator ran over {world.cfg.attempt_limit_s} s; "
                                         "killed")
            proc.kill()
            proc.wait()
            break
        if restart_at is not None and now >= restart_at:
            world.db.start()
            world.ledger.say("store started again")
            restart_at = None
        if not triggers or written(results, phase) < triggers[0].done:
            continue
        due_at = due_at if due_at is not None else now + triggers[0].delay_s
        if now < due_at:
            continue
        trigger = triggers[0]
        if fire(world, phase, proc, trigger):
            triggers.pop(0)
            due_at = None
            world.ledger.injected[f"{phase.runtime}:{trigger.kind}"] += 1
            world.ledger.say(f"{phase.run_id}: injected {trigger.kind} at {written(results, phase)} written")
            if trigger.kind == "store_stop":
                store_over_end = trigger.store_down_over_end
                restart_at = None if store_over_end else now + world.rng.uniform(2.0, 15.0)
    if restart_at is not None or world.db.down:
        store_over_end = store_over_end or world.db.down
    if proc.returncode in (0, 1):  # the run ended before these fired
        for trigger in triggers:
            world.ledger.skipped[f"{phase.runtime}:{trigger.kind}"] += 1
        triggers.clear()
    return store_over_end


def fire(world: World, phase: Phase, proc: subprocess.Popen[bytes], trigger: Trigger) -> bool:
    """Inject one fault; False when it cannot be now (no cell running, a hang still unclaimed, the store down)."""
    actions: dict[str, Callable[[], bool]] = {
        "cell_kill": lambda: kill_cell(phase, world.rng),
        "worker_kill": lambda: kill_worker(phase, world.rng),
        "orchestrator_kill": lambda: (proc.send_signal(signal.SIGKILL), True)[1],
        "hang": lambda: ask_hang(world.data),
        "disk_full": lambda: (world.disk.fill(), True)[1],
        "store_stop": lambda: (not world.db.down) and (world.db.stop(), True)[1],
    }
    return actions[trigger.kind]()


def finish_store(world: World, phase: Phase, results: Path, rc: int, out: str, store_over_end: bool) -> None:
    """The run ended: when its recording failed (the store was down), add it once with `orchestrate import`."""
    failed = "orchestrate import" in out
    if failed and rc != 3:
        world.ledger.findings.append(f"{phase.run_id}: the recording failed (the store was down) but the exit was "
                                     f"{rc}, not 3: a failed cell's exit 1 hides the store's failure")
    if store_over_end and not failed and "store:" not in out:
        world.ledger.problems.append(f"{phase.run_id}: the store was down at the end, yet no failure was told")
    if failed:
        log = world.logs / f"{phase.run_id}.import.log"
        proc = orchestrate("import", str(results / phase.run_id), "--store", world.db.url, log=log)
        proc.wait()
        world.ledger.imports += 1
        world.ledger.say(f"{phase.run_id}: recording had failed; `orchestrate import` exit {proc.returncode}")
        if proc.returncode != 0:
            world.ledger.problems.append(f"{phase.run_id}: orchestrate import exit {proc.returncode} ({log})")


# ------------------------------------------------------------------------------------------------ the checks


def check_run(world: World, phase: Phase) -> dict[str, Any]:
    """Every check of the end state of one run; problems go to the ledger, figures are returned."""
    run = world.disk.root / "results" / phase.run_id
    problems = world.ledger.problems
    report = load_cells(run)
    ids = [r.cell_id for r in report.results]
    plan = set(phase.cell_ids())
    statuses = Counter(r.status for r in report.results)
    problems += [f"{phase.run_id}: rejected cell file {p}: {why}" for p, why in report.rejected.items()]
    if sorted(ids) != sorted(plan):
        problems.append(f"{phase.run_id}: cells missing {sorted(plan - set(ids))[:5]}, extra "
                        f"{sorted(set(ids) - plan)[:5]}, twice {[c for c, n in Counter(ids).items() if n > 1]}")
    problems += [f"{phase.run_id}: {r.cell_id} is {r.status}, not a final result" for r in report.results
                 if r.status not in FINAL]
    problems += [f"{phase.run_id}: {r.cell_id} failed without a reason" for r in report.results
                 if r.status != "ok" and not r.reason]
    problems += files_problems(run, phase)
    problems += summary_problems(run, phase, ids)
    groups = group_results(report.results)
    counted = sum(len(g.results) for g in groups)
    if counted != len(report.results) or any(len({r.cell_id for r in g.results}) != len(g.results) for g in groups):
        problems.append(f"{phase.run_id}: the verdict's groups count {counted} results of {len(report.results)}")
    left = harnesses(phase)
    if left:
        problems.append(f"{phase.run_id}: harness processes left running: {[p.pid for p in left]}")
    return {"cells": len(ids), "statuses": dict(statuses), "store": store_problems(world, phase, run)}


def files_problems(run: Path, phase: Phase) -> list[str]:
    """No partial JSON, no temporary file, no empty file kept as data (a written cell's empty log is allowed)."""
    problems = []
    for path in run.rglob("*"):
        if not path.is_file():
            continue
        if path.name.endswith(".tmp") or ".tmp" in path.suffixes:
            problems.append(f"{phase.run_id}: temporary file left: {path}")
        elif path.stat().st_size == 0 and not quiet_log(run, path):
            problems.append(f"{phase.run_id}: empty file left: {path}")
        elif path.suffix == ".json":
            try:
                json.loads(path.read_text())
            except ValueError as exc:
                problems.append(f"{phase.run_id}: {path} does not parse: {exc}")
    return problems


def quiet_log(run: Path, path: Path) -> bool:
    """An empty log or events file of a cell whose result is written: a harness killed before it printed or
    timed anything (its result says so), not a write cut short."""
    cell = path.name.removesuffix(".events.jsonl").removesuffix(".log")
    return path.parent.name == "logs" and cell != path.name and (run / "cells" / f"{cell}.json").is_file()


def summary_problems(run: Path, phase: Phase, ids: list[str]) -> list[str]:
    try:
        summary = json.loads((run / "summary.json").read_text())
    except (OSError, ValueError) as exc:
        return [f"{phase.run_id}: summary.json unreadable: {exc}"]
    listed = [c["cell_id"] for c in summary.get("cells", [])]
    if sorted(listed) != sorted(ids):
        twice = [c for c, n in Counter(listed).items() if n > 1]
        return [f"{phase.run_id}: summary lists {len(listed)} cells for {len(ids)} files (twice: {twice[:5]})"]
    return []


VERIFY_LINE = re.compile(r"verify: .*: (\d+) missing in store, (\d+) missing in folder, (\d+) duplicated, "
                         r"(\d+) status differs, (\d+) value differs")


def store_problems(world: World, phase: Phase, run: Path) -> dict[str, int]:
    """`orchestrate store verify RUN`: its figures (and a problem unless it agrees)."""
    log = world.logs / f"{phase.run_id}.verify.log"
    proc = orchestrate("store", "verify", str(run), "--store", world.db.url, log=log)
    proc.wait()
    text = log.read_text(errors="replace")
    found = VERIFY_LINE.search(text)
    if proc.returncode != 0 or not found:
        world.ledger.problems.append(f"{phase.run_id}: store verify exit {proc.returncode}: {text[-1500:]}")
    names = ("missing_in_store", "missing_in_folder", "duplicated", "status_differs", "value_differs")
    return dict(zip(names, (int(x) for x in found.groups()))) if found else {}


# ------------------------------------------------------------------------------------------------ main


def soak(cfg: Config, keep: Path | None = None) -> int:
    ledger = Ledger()
    ledger.say(f"seed {cfg.seed} (replay: --seed {cfg.seed}); {cfg.cells} local cells, {cfg.ray_cells} on Ray")
    started = time.monotonic()
    root = Path(tempfile.mkdtemp(prefix=f"chaos-{cfg.seed}-", dir=cfg.work))
    data = root / "data"
    (data / "chaos").mkdir(parents=True)
    (root / "logs").mkdir()
    disk = Disk(root / "disk", cfg.disk_mb)
    db = Database()
    world = World(cfg, disk, db, data, root / "logs", random.Random(cfg.seed), ledger)
    figures: dict[str, Any] = {}
    ray = None
    try:
        local = Phase(f"chaos-{cfg.seed}-local", "local", cfg.cells, str(disk.root / "results" / f"chaos-{cfg.seed}-local"))
        drive(world, local, write_matrix(cfg, root / "matrix.yaml", cfg.cells), cfg.faults)
        figures[local.run_id] = check_run(world, local)
        if cfg.ray_cells:
            ray, address = start_ray(root)
            remote = Phase(f"chaos-{cfg.seed}-ray", "ray", cfg.ray_cells,
                           str(cfg.cache / "ray" / "runs" / f"chaos-{cfg.seed}-ray"), address)
            drive(world, remote, write_matrix(cfg, root / "matrix-ray.yaml", cfg.ray_cells), cfg.ray_faults)
            figures[remote.run_id] = check_run(world, remote)
    finally:
        if ray is not None:
            ray.shutdown()
            shutil.rmtree(cfg.cache / "ray" / "runs" / f"chaos-{cfg.seed}-ray", ignore_errors=True)  # the node's copy
        db.close()
        disk.close(keep)
    hangs = len(list((data / "chaos").glob("hang.*")))
    print_summary(cfg, ledger, figures, hangs, time.monotonic() - started)
    shutil.rmtree(root, ignore_errors=True) if not ledger.problems else None
    return 1 if ledger.problems else 0


def print_summary(cfg: Config, ledger: Ledger, figures: dict[str, Any], hangs: int, wall_s: float) -> None:
    print(f"\nchaos soak, seed {cfg.seed}: {wall_s / 60:.1f} min wall")
    for run_id, fig in figures.items():
        print(f"  {run_id}: {fig['cells']} cells, final statuses {fig['statuses']}; store verify {fig['store']}")
    print(f"  faults injected: {dict(sorted(ledger.injected.items()))} ({sum(ledger.injected.values())} in all; "
          f"hangs claimed by a cell: {hangs})")
    if ledger.skipped:
        print(f"  faults drawn but not injected (the run ended first): {dict(sorted(ledger.skipped.items()))}")
    print(f"  resumes: {ledger.resumes}; imports after a failed recording: {ledger.imports}; "
          f"orchestrator exits: {dict(Counter(ledger.exits))}")
    for finding in ledger.findings:
        print(f"  finding: {finding}")
    print(f"  problems: {len(ledger.problems)}")
    for problem in ledger.problems:
        print(f"    - {problem}")


def parse(argv: list[str] | None = None) -> tuple[Config, Path | None]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seed", type=int, default=None, help="replay this seed (default: a new one, printed)")
    p.add_argument("--ci", action="store_true", help="the CI form: tens of cells, each fault kind once or twice")
    p.add_argument("--cells", type=int, default=None, help="local cells (default: 200, --ci 16)")
    p.add_argument("--ray-cells", type=int, default=None, help="cells on Ray (default: 20, --ci 0: no Ray phase)")
    p.add_argument("--work", default=tempfile.gettempdir(), help="where the soak's folders go (default: /tmp)")
    p.add_argument("--cache-dir", default=os.environ.get("ORCHESTRATE_TEST_CACHE", str(REPO / ".orchestrate-test")),
                   help="the environment cache holding keras3-jax (default: the tests' cache)")
    p.add_argument("--keep", default=None, help="copy the results folder here before the tmpfs is unmounted")
    args = p.parse_args(argv)
    size = dict(CI if args.ci else FULL)
    size["cells"] = args.cells or size["cells"]
    size["ray_cells"] = size["ray_cells"] if args.ray_cells is None else args.ray_cells
    if size["ray_cells"] and not size["ray_faults"]:
        size["ray_faults"] = {"worker_kill": 1}
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**31)
    return Config(seed=seed, work=Path(args.work), cache=Path(args.cache_dir), **size), \
        (Path(args.keep) if args.keep else None)


if __name__ == "__main__":
    config, keep_dir = parse()
    sys.exit(soak(config, keep_dir))
