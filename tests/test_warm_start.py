"""The warm start in the real keras3-jax environment: cells forked from one parent that imported the framework
once (execution/warm.py, workloads/warm_parent.py), recorded as such; a hung child is stopped by the host like a
fresh process and the parent serves the next cell; the parent is stopped by its PID when the run ends."""

from __future__ import annotations

from pathlib import Path

import psutil
import pytest
import yaml

from orchestrator.cli import main
from orchestrator.results.io import load_cells


def _matrix(repo: Path, tmp_path: Path, warm: bool) -> Path:
    raw = yaml.safe_load((repo / "tests" / "workloads" / "matrix.yaml").read_text())
    raw["workloads_dir"] = str(repo / "tests" / "workloads")
    raw["environments"]["keras3-jax"]["requirements"] = str(repo / "requirements" / "keras3-jax.txt")
    raw["environments"]["keras3-jax"]["warm_start"] = warm
    raw["profiles"]["test"]["workloads"]["hangs"] = {"timeout_s": 8}
    raw["profiles"]["test"]["repeats"] = 2
    path = tmp_path / "matrix.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


@pytest.mark.integration
def test_cells_fork_from_one_warm_parent_and_a_hung_child_is_stopped(repo: Path, tmp_path: Path,
                                                                   env_cache: Path) -> None:
    matrix = _matrix(repo, tmp_path, warm=True)
    code = main(["run", str(matrix), "--workload", "hangs", "--workload", "sleepy", "--results-dir",
                 str(tmp_path / "results"), "--run-id", "warm", "--cache-dir", str(env_cache), "--runtime", "local",
                 "--monitor-hz", "0", "--budget", "off", "--no-report"])
    assert code == 1  # the hung cells failed (timeout)
    results = {r.cell_id: r for r in load_cells(tmp_path / "results" / "warm").results}
    sleepy = [results[f"keras3-jax__sleepy__test__r{i}"] for i in (0, 1)]
    assert all(r.status == "ok" for r in sleepy), [r.reason for r in sleepy]
    warm = [r.timings.warm_start for r in sleepy]
    assert all(w is not None for w in warm)
    parents = {w["parent_pid"] for w in warm}  # type: ignore[index]
    assert len(parents) == 1 and all(w["parent_import_s"] > 0.5 for w in warm)  # type: ignore[index]
    assert all(r.timings.import_s is not None and r.timings.import_s < 0.1 for r in sleepy)  # imported once, before
    hung = [results[f"keras3-jax__hangs__test__r{i}"] for i in (0, 1)]
    assert all(r.status == "timeout" for r in hung), [(r.status, r.reason) for r in hung]
    assert {r.timings.warm_start["parent_pid"] for r in hung if r.timings.warm_start} <= parents  # type: ignore[index]
    assert not any(psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
                   for pid in parents)  # stopped when the run ended


@pytest.mark.integration
def test_without_warm_start_every_cell_is_a_fresh_process(repo: Path, tmp_path: Path, env_cache: Path) -> None:
    matrix = _matrix(repo, tmp_path, warm=False)
    code = main(["run", str(matrix), "--workload", "sleepy", "--results-dir", str(tmp_path / "results"),
                 "--run-id", "fresh", "--cache-dir", str(env_cache), "--runtime", "local", "--monitor-hz", "0",
                 "--budget", "off", "--no-report"])
    assert code == 0
    results = load_cells(tmp_path / "results" / "fresh").results
    assert len(results) == 2 and all(r.status == "ok" and r.timings.warm_start is None for r in results)
    assert all(r.timings.import_s is not None and r.timings.import_s > 0.5 for r in results)
