"""Integration: build a real keras3-jax virtualenv and run a real smoke cell on real MNIST."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from orchestrator.cli import main
from orchestrator.results.io import read_cell

pytestmark = pytest.mark.integration


def orchestrate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "orchestrator.cli", *args], capture_output=True, text=True)


@pytest.mark.quick  # the quick tier's one real cell (scripts/test.sh --quick)
def test_smoke_cell_end_to_end(repo: Path, data_dir: Path, env_cache: Path, tmp_path: Path) -> None:
    rc = main(["run", str(repo / "matrix.yaml"), "--profile", "smoke", "--env", "keras3-jax",
               "--workload", "mnist_mlp", "--results-dir", str(tmp_path), "--run-id", "it",
               "--data-dir", str(data_dir), "--cache-dir", str(env_cache)])
    assert rc == 0
    result = read_cell(tmp_path / "it" / "cells" / "keras3-jax__mnist_mlp__smoke__r0.json")
    assert result.status == "ok"
    assert result.model.params == 669_706
    assert result.environment.keras_version == "3.15.1"
    assert result.environment.framework_version == "0.10.2"
    assert result.environment.packages["jax"] == "0.10.2"
    assert result.data.source == "real"
    assert result.data.sha256["mnist.npz"].startswith("06af5dfe")
    assert result.data.samples == {"train": 512, "test": 256}
    assert len(result.timings.epochs_s) == 2 and all(s > 0 for s in result.timings.epochs_s)
    assert [e.epoch for e in result.metrics.per_epoch] == [1, 2]
    assert all(e.loss is not None and e.accuracy is not None for e in result.metrics.per_epoch)
    assert 0.0 <= result.metrics.test["accuracy"] <= 1.0
    assert result.threads.env["OMP_NUM_THREADS"] == str(result.threads.requested)
    summary = json.loads((tmp_path / "it" / "summary.json").read_text())
    assert [c["cell_id"] for c in summary["cells"]] == [result.cell_id]


def test_unchanged_environment_is_reused_fast(repo: Path, env_cache: Path) -> None:
    first = orchestrate("build", "keras3-jax", "--matrix", str(repo / "matrix.yaml"), "--cache-dir", str(env_cache))
    assert first.returncode == 0, first.stderr
    start = time.perf_counter()
    second = orchestrate("build", "keras3-jax", "--matrix", str(repo / "matrix.yaml"), "--cache-dir", str(env_cache))
    elapsed = time.perf_counter() - start
    assert second.returncode == 0, second.stderr
    assert "reused" in second.stdout
    assert elapsed < 2.0 * 2, f"reuse took {elapsed:.2f} s"  # 2 s target, doubled for a loaded 2-core CI


def test_missing_data_fails_the_cell_with_the_file_named(repo: Path, env_cache: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty-data"
    empty.mkdir()
    rc = main(["run", str(repo / "matrix.yaml"), "--profile", "smoke", "--env", "keras3-jax",
               "--workload", "mnist_mlp", "--results-dir", str(tmp_path), "--run-id", "nodata",
               "--data-dir", str(empty), "--cache-dir", str(env_cache)])
    assert rc == 1
    result = read_cell(tmp_path / "nodata" / "cells" / "keras3-jax__mnist_mlp__smoke__r0.json")
    assert result.status == "failed"
    assert result.error is not None and result.error.type == "DataError"
    assert "mnist/mnist.npz" in result.error.message and str(empty) in result.error.message


def test_failed_build_leaves_nothing_that_looks_ready(repo: Path, tmp_path: Path) -> None:
    shutil.copytree(repo / "requirements", tmp_path / "requirements")  # the matrix names every environment's file
    (tmp_path / "requirements" / "broken.txt").write_text("this-package-does-not-exist-orchestrate==0.0.1\n")
    matrix = (repo / "matrix.yaml").read_text().replace(
        "requirements: requirements/keras3-jax.txt", "requirements: requirements/broken.txt")
    (tmp_path / "matrix.yaml").write_text(matrix)
    proc = orchestrate("build", "keras3-jax", "--matrix", str(tmp_path / "matrix.yaml"))
    assert proc.returncode == 1
    assert "build failed" in proc.stdout and "build.log" in proc.stdout
    env_dir = tmp_path / ".orchestrate" / "envs" / "keras3-jax"
    assert not (env_dir / "ready.json").exists()
    assert not (env_dir / "venv").exists()
    assert "this-package-does-not-exist-orchestrate" in (env_dir / "build.log").read_text()
