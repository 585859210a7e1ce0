"""Acceptance for the native workloads: PyTorch, JAX (flax nnx + optax) and TensorFlow 2 without
Keras run mnist_mlp, mnist_cnn and text_transformer on the CPU through the real CLI (smoke profile, real
virtualenvs, real data), beside keras3-torch running the Keras versions: the same parameter counts, the
harness's events (epochs, test metrics, versions, threads read back), and test accuracy after the same short run
within ACCURACY_TOLERANCE of the Keras version's."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.cli import main
from orchestrator.results.schema import CellResult
from orchestrator.results.io import read_cell

pytestmark = pytest.mark.integration

NATIVE = ["native-torch", "native-jax", "native-tensorflow"]
KERAS = "keras3-torch"
WORKLOADS = ["mnist_mlp", "mnist_cnn", "text_transformer"]
PARAMS = {"mnist_mlp": 669_706, "mnist_cnn": 1_199_882, "text_transformer": 74_646}
# Smoke size (512 training samples, 2 epochs): different random draws of the same distributions move MNIST's
# test accuracy by a few points; 0.15 (absolute) separates that from a model that learns less or not at all.
ACCURACY_TOLERANCE = 0.15


@pytest.fixture(scope="module")
def native_run(repo: Path, data_dir: Path, env_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    results_dir = tmp_path_factory.mktemp("native-results")
    args = ["run", str(repo / "matrix.yaml"), "--profile", "smoke", "--results-dir", str(results_dir),
            "--run-id", "native", "--data-dir", str(data_dir), "--cache-dir", str(env_cache)]
    for env in NATIVE + [KERAS]:
        args += ["--env", env]
    for workload in WORKLOADS:
        args += ["--workload", workload]
    rc = main(args)
    cells = {}
    for path in sorted((results_dir / "native" / "cells").glob("*.json")):
        result = read_cell(path)
        cells[(result.environment.name, result.workload.name)] = result
    return {"rc": rc, "cells": cells, "dir": results_dir / "native"}


def _explain(result: CellResult) -> str:
    tail = result.error.log_tail[-3000:] if result.error else ""
    return f"{result.cell_id}: {result.status} ({result.reason})\n{tail}"


def test_every_native_framework_runs_every_workload(native_run: dict) -> None:
    cells = native_run["cells"]
    assert sorted(cells) == sorted((e, w) for e in NATIVE + [KERAS] for w in WORKLOADS)
    bad = [_explain(r) for r in cells.values() if r.status != "ok"]
    assert not bad, "\n\n".join(bad)
    assert native_run["rc"] == 0


def test_parameter_counts_equal_the_keras_versions(native_run: dict) -> None:
    for (env, workload), r in native_run["cells"].items():
        assert r.model.params == native_run["cells"][(KERAS, workload)].model.params == PARAMS[workload], (
            env, workload, r.model.params)


def test_accuracy_after_the_same_short_run_is_close_to_keras(native_run: dict) -> None:
    for env in NATIVE:
        for workload in WORKLOADS:
            native = native_run["cells"][(env, workload)].metrics.test["accuracy"]
            keras = native_run["cells"][(KERAS, workload)].metrics.test["accuracy"]
            assert abs(native - keras) <= ACCURACY_TOLERANCE, (env, workload, native, keras)
    for env in NATIVE + [KERAS]:  # on MNIST, 2 epochs on 512 images learn well above chance (0.1)
        assert native_run["cells"][(env, "mnist_mlp")].metrics.test["accuracy"] > 0.5, env


def test_native_cells_speak_the_events_contract(native_run: dict) -> None:
    for env in NATIVE:
        for workload in WORKLOADS:
            r = native_run["cells"][(env, workload)]
            assert r.environment.keras_version == "native"
            assert r.environment.framework_version, (env, r.environment)
            assert [e.epoch for e in r.metrics.per_epoch] == [1, 2]
            assert all(e.loss is not None and e.val_accuracy is not None for e in r.metrics.per_epoch)
            assert r.timings.steady_state_s and r.data.source == "real"
            assert r.model.hyperparameters["api"] == "native"
            assert r.model.hyperparameters["jit_compile"]["means"]  # shown in the report's fairness table
    threads = {env: native_run["cells"][(env, "mnist_mlp")].threads for env in NATIVE}
    assert threads["native-torch"].framework["torch_threads"] == threads["native-torch"].requested
    assert threads["native-tensorflow"].framework["tf_intra_op"] == threads["native-tensorflow"].requested
    assert "xla_cpu_threads" in threads["native-jax"].framework


def test_the_report_has_the_cost_of_keras_section(native_run: dict) -> None:
    page = (native_run["dir"] / "report" / "report.html").read_text()
    assert 'id="keras-cost-table"' in page and "keras3-torch" in page and "native-torch" in page
