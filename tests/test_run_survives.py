"""Integration: a matrix run survives kill -9 (then resumes), hand-edited results and failing builds; crashes,
hangs, memory limits, Ctrl-C and SIGKILL on every runtime are in tests/test_runtime_contract.py.

Real processes throughout: the test workloads (tests/workloads/) run in the real keras3-jax environment
(shared env cache) through the real harness; the orchestrator runs as a child process where it gets killed.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from orchestrator.cli import main
from orchestrator.results.io import load_cells, read_cell

pytestmark = pytest.mark.integration

ENV = "keras3-jax"


def cell_id(workload: str, profile: str = "test", repeat: int = 0) -> str:
    return f"{ENV}__{workload}__{profile}__r{repeat}"


@pytest.fixture()
def matrix(repo: Path) -> Path:
    return repo / "tests" / "workloads" / "matrix.yaml"


def run_args(matrix: Path, results: Path, run_id: str, cache: Path, *extra: str) -> list[str]:
    return ["run", str(matrix), "--results-dir", str(results), "--run-id", run_id, "--cache-dir", str(cache), *extra]


def spawn(args: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "orchestrator.cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def wait_for(predicate, timeout: float, what: str) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    pytest.fail(f"timed out after {timeout} s waiting for {what}")


def epochs_in(events: Path) -> int:
    try:
        return sum('"event": "epoch"' in line for line in events.read_text().splitlines())
    except OSError:
        return 0


def harness_processes(run_path: Path) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        if any(str(run_path) in part for part in proc.info["cmdline"] or []):
            found.append(proc)
    return found


def assert_all_json_complete(root: Path) -> None:
    """No partial JSON anywhere: every .json file parses, no temporary file of an atomic write is left."""
    for path in root.rglob("*"):
        assert not path.name.endswith(".tmp"), f"leftover temporary file {path}"
        if path.suffix == ".json":
            json.loads(path.read_text())


def test_slots_pin_cells_and_edited_results_are_ignored_then_rerun(
        matrix: Path, env_cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """(Crashes, hangs, memory limits, Ctrl-C and SIGKILL on every runtime: tests/test_runtime_contract.py.)"""
    rc = main(run_args(matrix, tmp_path, "bad", env_cache, "--workload", "sleepy", "--workload", "aborts",
                       "--slots", "2"))
    assert rc == 1
    run = tmp_path / "bad"
    results = {r.cell_id: r for r in load_cells(run).results}
    assert len(results) == 2
    ok = results[cell_id("sleepy")]
    assert ok.status == "ok" and len(ok.timings.epochs_s) == 2 and ok.metrics.test["accuracy"] == 1.0
    # Two slots on this machine: each cell pinned to its slot's cores, its threads = those cores.
    cores = len(os.sched_getaffinity(0))
    assert ok.threads.requested == max(1, cores // 2)
    pinned = next(n for n in ok.data.notes if n.startswith("cpus "))
    assert len(pinned.split()[1].split(",")) in (max(1, cores // 2), cores - cores // 2)
    assert results[cell_id("aborts")].status == "failed"

    # A results file edited by hand: a broken one is reported and ignored by the merge; resume reruns its cell.
    capsys.readouterr()
    aborts_file = run / "cells" / f"{cell_id('aborts')}.json"
    aborts_file.write_text(aborts_file.read_text()[:200])
    sleepy_file = run / "cells" / f"{cell_id('sleepy')}.json"
    sleepy_file.write_text(sleepy_file.read_text().replace('"status": "ok"', '"status": "great"'))
    rc = main(run_args(matrix, tmp_path, "bad", env_cache, "--workload", "sleepy", "--resume"))
    out = capsys.readouterr().out
    assert rc == 0
    assert "0 of 1 cell(s) already have a valid ok result" in out
    assert "does not match the CellResult schema at status" in out
    assert f"rerun {cell_id('sleepy')}: its result file is unreadable or invalid" in out
    assert f"ignored {aborts_file}" in out and "unreadable" in out
    assert read_cell(sleepy_file).status == "ok"


def test_kill_9_mid_run_then_resume_runs_only_what_is_left(matrix: Path, env_cache: Path, tmp_path: Path) -> None:
    args = run_args(matrix, tmp_path, "k9", env_cache, "--profile", "pair", "--workload", "sleepy")
    run = tmp_path / "k9"
    first, second = (run / "cells" / f"{cell_id('sleepy', 'pair', i)}.json" for i in (0, 1))
    proc = spawn(args)
    try:
        wait_for(lambda: first.exists() and epochs_in(run / "logs" / f"{cell_id('sleepy', 'pair', 1)}.events.jsonl") >= 1,
                 120, "the first cell to finish and the second to be mid-epoch")
        proc.kill()
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    wait_for(lambda: not harness_processes(run), 10, "the running cell's process to die with the orchestrator")
    assert_all_json_complete(run)
    assert not second.exists()
    kept = first.read_bytes()

    out = subprocess.run([sys.executable, "-m", "orchestrator.cli", *args, "--resume"], capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "1 of 2 cell(s) already have a valid ok result and are skipped; 1 to run" in out.stdout
    assert first.read_bytes() == kept  # the finished cell was not rerun
    results = load_cells(run).results
    assert [r.status for r in results] == ["ok", "ok"]
    assert_all_json_complete(run)


def test_infrastructure_failures_are_retried_and_recorded(repo: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A build that cannot reach its package index is retried (`retries`); a bad requirement is not."""
    monkeypatch.setenv("UV_HTTP_RETRIES", "0")  # uv's own retries would only make the test slower
    (tmp_path / "requirements").mkdir()
    (tmp_path / "requirements" / "offline.txt").write_text("--index-url http://127.0.0.1:9/simple/\nsix==1.16.0\n")
    (tmp_path / "requirements" / "broken.txt").write_text("./nope-1.0-py3-none-any.whl\n")
    shutil.copytree(repo / "tests" / "workloads", tmp_path / "workloads",
                    ignore=shutil.ignore_patterns("matrix.yaml", "__pycache__"))
    text = (repo / "tests" / "workloads" / "matrix.yaml").read_text()
    text = text.replace("retries: 2", "retries: 1").replace("workloads_dir: .", "workloads_dir: workloads")
    env_block = text[text.index("  keras3-jax:"):text.index("\nworkloads:")]
    envs = [env_block.replace("../../requirements/keras3-jax.txt", f"requirements/{name}.txt").replace(
        "keras3-jax", name) for name in ("offline", "broken")]
    text = text.replace(env_block, "\n".join(envs))
    (tmp_path / "matrix.yaml").write_text(text)
    rc = main(["run", str(tmp_path / "matrix.yaml"), "--results-dir", str(tmp_path / "results"), "--run-id", "net",
               "--cache-dir", str(tmp_path / "cache"), "--env", "offline", "--env", "broken"])
    assert rc == 1
    results = {r.environment.name: r for r in load_cells(tmp_path / "results" / "net").results}
    assert results["offline"].attempts == 2 and results["offline"].error.type == "NetworkBuildError"
    assert "Connection refused" in results["offline"].error.log_tail
    assert results["broken"].attempts == 1 and results["broken"].error.type == "EnvironmentBuildError"
    assert "Distribution not found" in results["broken"].error.log_tail


def test_sigterm_stops_the_running_cell_like_a_second_ctrl_c(matrix: Path, env_cache: Path, tmp_path: Path) -> None:
    """SIGTERM (a VM shutting down, `kill PID`) acts at once as two Ctrl-C: the cell is stopped and recorded."""
    args = run_args(matrix, tmp_path, "term", env_cache, "--workload", "hangs")
    events = tmp_path / "term" / "logs" / f"{cell_id('hangs')}.events.jsonl"
    proc = spawn(args)
    wait_for(lambda: events.exists() and '"event": "model"' in events.read_text(), 180, "the cell to start")
    stopped_at = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130, out
    assert time.monotonic() - stopped_at < 20, out  # well before the cell's 40 s timeout
    result = read_cell(tmp_path / "term" / "cells" / f"{cell_id('hangs')}.json")
    assert result.status == "failed" and result.error.type == "Interrupted"
    assert not harness_processes(tmp_path / "term")
