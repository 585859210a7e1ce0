"""The runtime contract: every runtime keeps the same promises, checked with the same tests on each.

One set of tests, run against the local, Docker and Ray runtimes alike, with real parts: the test workloads
(tests/workloads/) in the real keras3-jax environment (a virtualenv; for Docker, the keras3-jax image built from
docker/Dockerfile on a debootstrap base, as tests/test_docker_runtime.py builds it), our own dockerd
(tests/docker_engine.py), and a Ray cluster on 127.0.0.1 that the orchestrator joins with --address. The
orchestrator always runs as `orchestrate run` in a child process, as a user runs it.

The promises: a cell that crashes, hangs past its timeout or exceeds its memory limit becomes a result with the
same status, error type and limits on every runtime, and the run goes on; the first Ctrl-C lets the running cell
finish, the second stops it (`Interrupted`); an orchestrator killed with SIGKILL leaves no cell process running
within seconds (Docker: the container's watchdog stops it, and the next run removes the container by its labels).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import psutil
import pytest
import yaml

import docker_engine  # tests/docker_engine.py
from orchestrator.results.schema import CellResult
from orchestrator.results.io import load_cells, read_cell

pytestmark = pytest.mark.integration

ENV = "keras3-jax"


@dataclass
class Target:
    """One runtime under test: how to ask `orchestrate run` for it and where its cells leave their files."""

    name: str
    matrix: Path
    cache: Path
    args: list[str]
    runtime_field: str                       # CellResult.environment.runtime
    env: dict[str, str] = field(default_factory=dict)
    node_dir: Callable[[Path, str], Path] | None = None  # where a cell's files live while it runs (Ray: the node's)

    def live_logs(self, results: Path, run_id: str) -> Path:
        """The folder where a running cell's events file grows."""
        base = self.node_dir(results, run_id) if self.node_dir else results / run_id
        return base / "logs"


def cell_id(workload: str, profile: str = "test", repeat: int = 0) -> str:
    return f"{ENV}__{workload}__{profile}__r{repeat}"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


# ---------------------------------------------------------------- the three runtimes

@pytest.fixture(scope="module", params=["local", "docker", "ray"])
def target(request: pytest.FixtureRequest, repo: Path, env_cache: Path,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    matrix = repo / "tests" / "workloads" / "matrix.yaml"
    if request.param == "local":
        yield Target("local", matrix, env_cache, ["--runtime", "local"], "local")
    elif request.param == "docker":
        yield from _docker_target(repo, env_cache, tmp_path_factory.mktemp("contract-docker"))
    else:
        yield from _ray_target(matrix, env_cache)


def _docker_target(repo: Path, cache: Path, folder: Path) -> Iterator[Target]:
    engine = docker_engine.start_engine(cache)
    try:
        base = docker_engine.base_image(engine, cache)
        yield Target("docker", docker_matrix(repo, base, folder), cache, ["--runtime", "docker"], "docker",
                     env={"DOCKER_HOST": engine.host})
    finally:
        docker_engine.stop_engine(engine)


def docker_matrix(repo: Path, base: str, folder: Path) -> Path:
    """The test workloads' matrix with the repository's keras3-jax environment (so the image is the one
    tests/test_docker_runtime.py builds: same recipe, same content-hash tag) on the local base image."""
    raw = yaml.safe_load((repo / "tests" / "workloads" / "matrix.yaml").read_text())
    jax = yaml.safe_load((repo / "matrix.yaml").read_text())["environments"][ENV]
    jax["requirements"] = str(repo / jax["requirements"])
    jax["image"] = dict(jax.get("image") or {}, cpu_base_image=base)
    raw["environments"] = {ENV: jax}
    raw["workloads_dir"] = str(repo / "tests" / "workloads")
    path = folder / "matrix.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def _ray_target(matrix: Path, cache: Path) -> Iterator[Target]:
    from orchestrator.runtimes.ray import loopback_env

    loopback_env()  # before Ray's first import in this process
    import ray

    temp = tempfile.mkdtemp(prefix="orchestrate-ray-contract-")  # short: Ray's socket paths must fit 107 bytes
    context = ray.init(num_cpus=2, resources={"slot": 2}, include_dashboard=False, _node_ip_address="127.0.0.1",
                       _temp_dir=temp, log_to_driver=False)
    try:
        address = context.address_info["gcs_address"]
        yield Target("ray", matrix, cache, ["--runtime", "ray", "--address", address], "ray+local",
                     node_dir=lambda results, run_id: cache / "ray" / "runs" / run_id)
    finally:
        ray.shutdown()  # stops what ray.init started; never `ray stop`
        shutil.rmtree(temp, ignore_errors=True)


# ---------------------------------------------------------------- helpers

def run_args(target: Target, results: Path, run_id: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "orchestrator.cli", "run", str(target.matrix), *target.args,
            "--results-dir", str(results), "--run-id", run_id, "--cache-dir", str(target.cache), *extra]


def spawn(target: Target, args: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=dict(os.environ, **target.env))


def wait_for(predicate: Callable[[], bool], timeout: float, what: str, proc: subprocess.Popen[str] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"the orchestrator ended (exit {proc.returncode}) while waiting for {what}:\n"
                        + (proc.stdout.read() if proc.stdout else ""))
        time.sleep(0.1)
    pytest.fail(f"timed out after {timeout} s waiting for {what}")


def has_event(events: Path, kind: str) -> bool:
    try:
        return f'"event": "{kind}"' in events.read_text()
    except OSError:
        return False


def cell_processes(run_id: str) -> list[psutil.Process]:
    """Harness processes of a run, wherever they run (a child, a container's process, a Ray worker's child):
    their command line names the run's logs folder (containers mount it at its host path)."""
    marker = f"/{run_id}/logs/"
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        if any(marker in part for part in proc.info["cmdline"] or []):
            found.append(proc)
    return found


def containers(target: Target, run_id: str, running_only: bool = False) -> list[str]:
    """The run's containers on the test engine (by the run-id label every cell container carries)."""
    if target.name != "docker":
        return []
    import docker

    client = docker.DockerClient(base_url=target.env["DOCKER_HOST"], timeout=60)
    try:
        found = client.containers.list(all=not running_only, filters={"label": f"org.orchestrate.run={run_id}"})
        return [c.name for c in found]
    finally:
        client.close()


# ---------------------------------------------------------------- the contract

# What each test workload gives, identically on every runtime: status, error type, text in the reason,
# text in the log tail, epochs recorded.
EXPECTED = {
    "sleepy": ("ok", None, None, None, 2),
    "aborts": ("failed", "ProcessCrashed", "SIGABRT", "calling os.abort()", 1),
    "segfaults": ("failed", "ProcessCrashed", "SIGSEGV", "Segmentation fault", 0),
    "raises": ("failed", "ValueError", "deliberate test failure", "deliberate test failure", 0),
    "hangs": ("timeout", "Timeout", "timeout of 40 s", "sleeping for an hour", 0),
    "memhog": ("failed", "MemoryLimitExceeded", "memory limit of 1 GB", "memhog: ", 0),
}


def test_crashes_hangs_and_memory_give_the_same_results(target: Target, tmp_path: Path) -> None:
    run_id = unique(f"bad-{target.name}")
    started = time.perf_counter()
    proc = subprocess.run(run_args(target, tmp_path, run_id, "--all", "--slots", "2", "--monitor-hz", "20"), capture_output=True,
                          text=True, timeout=600, env=dict(os.environ, **target.env))
    print(f"{target.name}: six failure cells in {time.perf_counter() - started:.1f} s")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    results = {r.cell_id: r for r in load_cells(tmp_path / run_id).results}
    assert sorted(results) == sorted(cell_id(w) for w in EXPECTED), proc.stdout
    for workload, (status, error_type, reason, log_text, epochs) in EXPECTED.items():
        result = results[cell_id(workload)]
        assert (result.status, result.error.type if result.error else None) == (status, error_type), (
            workload, result.reason, result.error)
        if reason:
            assert reason in (result.reason or ""), (workload, result.reason)
        if log_text:
            assert log_text in result.error.log_tail, (workload, result.error.log_tail[-2000:])
        assert len(result.metrics.per_epoch) == epochs, workload
        assert_same_fields(target, result, tmp_path / run_id)
    assert results[cell_id("sleepy")].metrics.test["accuracy"] == 1.0
    assert results[cell_id("memhog")].limits.memory_gb == 1.0
    assert results[cell_id("memhog")].limits.memory_enforced_by
    assert results[cell_id("hangs")].limits.timeout_s == 40
    assert results[cell_id("hangs")].timings.process_s < 90
    assert not cell_processes(run_id), "a stopped cell left processes behind"
    assert containers(target, run_id) == [], "a cell's container was not removed"


def assert_same_fields(target: Target, result: CellResult, run: Path) -> None:
    """The fields every runtime fills for a cell that ran, whatever its end."""
    assert result.environment.runtime == target.runtime_field
    assert result.attempts == 1  # a workload's own failure is never retried
    assert result.environment.python_version.startswith("3.11")
    assert result.host.hostname and result.threads.requested >= 1
    assert result.started_at and result.finished_at and result.timings.process_s is not None
    assert result.limits is not None and result.limits.timeout_s is not None
    assert result.monitor is not None and result.monitor["samples"] >= 1, result.monitor
    assert result.monitor["hz"] == 20  # --monitor-hz reaches the cell wherever it runs
    assert (run / "cells" / result.monitor["series_file"]).is_file(), "the monitor series is missing"
    logs = run / "logs"
    for suffix in (".spec.json", ".events.jsonl", ".log"):
        assert (logs / f"{result.cell_id}{suffix}").is_file(), f"{result.cell_id}{suffix} missing"


def test_first_ctrl_c_finishes_the_cell_and_a_second_stops_it(target: Target, tmp_path: Path) -> None:
    # One Ctrl-C: the running cell finishes, nothing new starts, the resume command is printed.
    run_id = unique(f"int1-{target.name}")
    proc = spawn(target, run_args(target, tmp_path, run_id, "--profile", "pair", "--workload", "sleepy",
                                  "--slots", "1"))
    events = target.live_logs(tmp_path, run_id) / f"{cell_id('sleepy', 'pair', 0)}.events.jsonl"
    wait_for(lambda: has_event(events, "epoch"), 180, "the first epoch", proc)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=180)
    assert proc.returncode == 130, out
    assert "no new cells will start" in out and "1 cell(s) written, 1 not run" in out
    assert [r.status for r in load_cells(tmp_path / run_id).results] == ["ok"], out
    resume = [line for line in out.splitlines() if line.startswith("orchestrate run")]
    assert resume and resume[0].endswith(f"--run-id {run_id} --resume")

    # Two Ctrl-C: the hanging cell is stopped at once and recorded as interrupted.
    run_id = unique(f"int2-{target.name}")
    proc = spawn(target, run_args(target, tmp_path, run_id, "--workload", "hangs"))
    events = target.live_logs(tmp_path, run_id) / f"{cell_id('hangs')}.events.jsonl"
    wait_for(lambda: has_event(events, "model"), 180, "the cell to start its hanging epoch", proc)
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.5)
    stopped_at = time.monotonic()
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 130, out
    assert time.monotonic() - stopped_at < 20, out  # not the cell's 40 s timeout: stopped by the second Ctrl-C
    result = read_cell(tmp_path / run_id / "cells" / f"{cell_id('hangs')}.json")
    assert result.status == "failed" and result.error.type == "Interrupted", result.error
    assert result.environment.runtime.startswith(target.runtime_field.split("+")[0])
    wait_for(lambda: not cell_processes(run_id), 10, "the interrupted cell's processes to end")
    assert containers(target, run_id) == []


def test_a_sigkilled_orchestrator_leaves_nothing_running(target: Target, tmp_path: Path) -> None:
    run_id = unique(f"k9-{target.name}")
    proc = spawn(target, run_args(target, tmp_path, run_id, "--workload", "hangs"))
    events = target.live_logs(tmp_path, run_id) / f"{cell_id('hangs')}.events.jsonl"
    try:
        wait_for(lambda: has_event(events, "model") and bool(cell_processes(run_id)), 180,
                 "the hanging cell to run", proc)
    finally:
        proc.kill()
        proc.wait(30)
    killed_at = time.monotonic()
    wait_for(lambda: not cell_processes(run_id) and not containers(target, run_id, running_only=True), 15,
             "the cell's processes (and container) to end with the orchestrator")
    print(f"{target.name}: cell processes gone {time.monotonic() - killed_at:.1f} s after the SIGKILL")
    if target.name == "docker":
        # The stopped container is left behind (nobody removed it); the next run reaps it by its labels.
        assert containers(target, run_id) != []
        again = subprocess.run(run_args(target, tmp_path, unique("next"), "--workload", "sleepy"),
                               capture_output=True, text=True, timeout=300, env=dict(os.environ, **target.env))
        assert again.returncode == 0, again.stdout + again.stderr
        assert "left by orchestrators that are gone" in again.stdout, again.stdout
        assert containers(target, run_id) == []
