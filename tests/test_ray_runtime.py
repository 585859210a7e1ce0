"""Integration: a matrix on a real local Ray cluster (127.0.0.1, two slots as a custom resource).

The cluster is started here (ray.init) and the orchestrator joins it as a separate driver process with
`--runtime ray --address`, as it would join a cluster of VMs. One test kills the Ray worker running a cell
(by its PID) in the middle of the cell: Ray retries the task and the cell still completes.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator

import psutil
import pytest

from orchestrator.results.io import load_cells
from orchestrator.runtimes.ray import loopback_env

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def ray_address() -> Iterator[str]:
    mode_preset = "RAY_AUTH_MODE" in os.environ
    loopback_env()  # before Ray's first import in this process
    import ray  # a missing `ray` extra fails here: it is part of the `test` extra

    global_token = Path.home() / ".ray" / "auth_token"
    token_before = global_token.read_bytes() if global_token.exists() else None
    temp = tempfile.mkdtemp(prefix="orchestrate-ray-test-")  # short: Ray's socket paths must fit 107 bytes
    context = ray.init(num_cpus=2, resources={"slot": 2}, include_dashboard=False, _node_ip_address="127.0.0.1",
                       _temp_dir=temp, log_to_driver=False)
    # token authentication on, with the token in the environment: the user's ~/.ray is left as it was
    assert mode_preset or os.environ["RAY_AUTH_MODE"] == "token"
    assert (global_token.read_bytes() if global_token.exists() else None) == token_before
    try:
        yield context.address_info["gcs_address"]
    finally:
        ray.shutdown()  # stops what ray.init started; never `ray stop`
        shutil.rmtree(temp, ignore_errors=True)


def harness_of(events: Path) -> psutil.Process | None:
    for proc in psutil.process_iter(["cmdline"]):
        if str(events) in " ".join(proc.info["cmdline"] or []):
            return proc
    return None


def epochs_in(events: Path) -> int:
    try:
        return events.read_text().count('"event": "epoch"')
    except OSError:
        return 0


def test_matrix_on_ray_survives_a_killed_worker(repo: Path, env_cache: Path, tmp_path: Path, ray_address: str) -> None:
    run_id = "ray-it"
    cmd = [sys.executable, "-m", "orchestrator.cli", "run", str(repo / "tests" / "workloads" / "matrix.yaml"),
           "--runtime", "ray", "--address", ray_address, "--profile", "pair", "--workload", "sleepy",
           "--workload", "aborts", "--results-dir", str(tmp_path), "--run-id", run_id, "--cache-dir", str(env_cache)]
    driver = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    # The node runs the cell under its own cache (here the same machine's): find it there, mid-epoch.
    events = env_cache / "ray" / "runs" / run_id / "logs" / "keras3-jax__sleepy__pair__r0.events.jsonl"
    harness = None
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and driver.poll() is None:
        if epochs_in(events) >= 1:
            harness = harness_of(events)
            if harness is not None:
                break
        time.sleep(0.1)
    if harness is None:
        driver.kill()
        pytest.fail("the sleepy cell never reached its first epoch on the Ray cluster:\n" + driver.communicate()[0])
    worker = harness.parent()
    assert worker is not None and "ray" in " ".join(worker.cmdline()).lower(), worker.cmdline()
    worker.send_signal(signal.SIGKILL)
    harness.wait(10)  # the cell's process dies with its worker (PR_SET_PDEATHSIG), no orphan left

    out, _ = driver.communicate(timeout=300)
    assert driver.returncode == 1, out  # the aborting cells fail the run, nothing else does
    results = {r.cell_id: r for r in load_cells(tmp_path / run_id).results}
    assert len(results) == 4, out
    killed = results["keras3-jax__sleepy__pair__r0"]
    assert killed.status == "ok" and killed.attempts == 2, out
    assert len(killed.timings.epochs_s) == 6
    assert results["keras3-jax__sleepy__pair__r1"].status == "ok"
    assert results["keras3-jax__sleepy__pair__r1"].attempts == 1
    for repeat in (0, 1):  # a workload's own failure is not retried
        aborted = results[f"keras3-jax__aborts__pair__r{repeat}"]
        assert aborted.status == "failed" and "SIGABRT" in aborted.reason and aborted.attempts == 1
    assert all(r.environment.runtime == "ray+local" for r in results.values())
    # Results, logs and events streamed back into the driver's run folder.
    logs = tmp_path / run_id / "logs"
    assert "[ran on Ray node" in (logs / "keras3-jax__sleepy__pair__r0.log").read_text()
    assert epochs_in(logs / "keras3-jax__sleepy__pair__r0.events.jsonl") == 6
    assert "2 slot(s) on 1 node(s)" in out


def test_user_model_file_is_shipped_to_the_node(repo: Path, env_cache: Path, tmp_path: Path, ray_address: str) -> None:
    """A user's model file (and no other file of its folder) travels in the task's bundle and runs on the node."""
    models = repo / "tests" / "user_models"
    matrix = tmp_path / "matrix.yaml"
    matrix.write_text((models / "matrix.yaml").read_text().replace("../../requirements", str(repo / "requirements"))
                      .replace("script: ", f"script: {models}/"))
    proc = subprocess.run([sys.executable, "-m", "orchestrator.cli", "run", str(matrix), "--runtime", "ray",
                           "--address", ray_address, "--workload", "not_a_model", "--results-dir", str(tmp_path),
                           "--run-id", "ray-model", "--cache-dir", str(env_cache), "--no-report"],
                          capture_output=True, text=True, timeout=600)
    (result,) = load_cells(tmp_path / "ray-model").results
    assert result.environment.runtime == "ray+local", proc.stdout + proc.stderr
    # The node ran the shipped copy (a path in its bundle, not the driver's file) and named it in the error.
    assert result.status == "failed" and "build() on the jax backend returned dict" in (result.reason or "")
    assert f"{env_cache}/ray/matrices/" in (result.reason or "") and "/models/not_a_model/not_a_model.py" in result.reason
