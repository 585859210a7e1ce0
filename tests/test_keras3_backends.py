"""Acceptance for the Keras 3 backends: the five workloads, smoke profile, on TensorFlow, JAX, PyTorch and
OpenVINO, through the real CLI, real virtualenvs and real data. OpenVINO cannot train: its cells must be
`unsupported` with the backend's own reason and still carry inference results."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestrator.cli import main
from orchestrator.config.load import load_matrix
from orchestrator.results.schema import CellResult
from orchestrator.results.io import read_cell

pytestmark = pytest.mark.integration

ENVS = ["keras3-tensorflow", "keras3-jax", "keras3-torch", "keras3-openvino"]
WORKLOADS = ["mnist_mlp", "mnist_cnn", "cifar10_cnn", "mnist_hrnn", "babi_rnn", "text_transformer"]
FRAMEWORK_VERSIONS = {"keras3-tensorflow": "2.21.0", "keras3-jax": "0.10.2", "keras3-torch": "2.13.0+cpu",
                      "keras3-openvino": "2026.4.1"}


@pytest.fixture(scope="module")
def smoke_run(repo: Path, data_dir: Path, env_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    results_dir = tmp_path_factory.mktemp("keras3-results")
    # The matrix's workloads but today's models (workloads/modern, files of their own: tests/test_modern_workloads.py)
    workloads = [name for name, w in load_matrix(repo / "matrix.yaml").matrix.workloads.items() if not w.script]
    args = ["run", str(repo / "matrix.yaml"), "--profile", "smoke", "--results-dir", str(results_dir),
            "--run-id", "keras3", "--data-dir", str(data_dir), "--cache-dir", str(env_cache)]
    for env in ENVS:
        args += ["--env", env]
    for workload in workloads:
        args += ["--workload", workload]
    rc = main(args)
    cells = {}
    for path in sorted((results_dir / "keras3" / "cells").glob("*.json")):
        result = read_cell(path)
        cells[(result.environment.name, result.workload.name)] = result
    return {"rc": rc, "cells": cells, "workloads": workloads, "dir": results_dir / "keras3"}


def _explain(result: CellResult) -> str:
    tail = result.error.log_tail[-3000:] if result.error else ""
    return f"{result.cell_id}: {result.status} ({result.reason})\n{tail}"


def test_every_workload_runs_on_every_keras3_backend(smoke_run: dict) -> None:
    assert sorted(smoke_run["workloads"]) == sorted(WORKLOADS)
    cells = smoke_run["cells"]
    assert sorted(cells) == sorted((e, w) for e in ENVS for w in WORKLOADS)
    bad = [_explain(r) for (env, _), r in cells.items()
           if r.status != ("unsupported" if env == "keras3-openvino" else "ok")]
    assert not bad, "\n\n".join(bad)
    assert smoke_run["rc"] == 0


def test_training_cells_record_epochs_inference_and_settings(smoke_run: dict) -> None:
    for (env, workload), r in smoke_run["cells"].items():
        if env == "keras3-openvino":
            continue
        assert r.environment.keras_version == "3.15.1"
        assert r.environment.framework_version == FRAMEWORK_VERSIONS[env], r.cell_id
        assert r.data.source == "real"
        assert len(r.timings.epochs_s) == 2 and r.timings.first_epoch_s and r.timings.steady_state_s
        assert r.metrics.test.get("accuracy") is not None
        inference = r.inference or {}
        assert inference["trained"] is True, r.cell_id
        assert inference["samples_per_s"] > 0, r.cell_id
        assert inference["batches"] == len(inference["batch_s"]) >= 1
        assert inference["samples"] == inference["batches"] * inference["batch_size"]
        assert inference["batch_size"] == r.workload.batch_size
        assert inference["warmup_s"] > 0
        jit = r.model.hyperparameters["jit_compile"]
        assert jit["requested"] == "auto"
        # Keras 3 resolves "auto": XLA under JAX; eager under torch; TF turns XLA off on CPU-only hosts.
        assert jit["resolved"] is {"keras3-jax": True, "keras3-torch": False,
                                   "keras3-tensorflow": False}[env], r.cell_id


def test_threads_are_set_and_read_back_from_each_framework(smoke_run: dict) -> None:
    for (env, _), r in smoke_run["cells"].items():
        n = r.threads.requested
        assert n >= 1
        assert r.threads.env["OMP_NUM_THREADS"] == str(n)
        framework = r.threads.framework
        assert framework["requested"] == n and framework["cpu_affinity"] >= 1
        if env == "keras3-tensorflow":
            assert framework["tf_intra_op"] == n and framework["tf_inter_op"] == n
        elif env == "keras3-torch":
            assert framework["torch_threads"] == n and framework["torch_interop_threads"] == n
        elif env == "keras3-jax":
            assert "xla_cpu_threads" in framework
        elif env == "keras3-openvino":
            assert framework["openvino"] == {"INFERENCE_NUM_THREADS": n, "INFERENCE_PRECISION_HINT": "f32"}
            settings = r.inference["backend_settings"]
            assert settings["INFERENCE_NUM_THREADS"] == str(n)
            assert settings["INFERENCE_PRECISION_HINT"] == "f32"


def test_openvino_is_inference_only_with_the_backends_reason(smoke_run: dict) -> None:
    for workload in WORKLOADS:
        r = smoke_run["cells"][("keras3-openvino", workload)]
        assert r.status == "unsupported"
        assert "`fit` is not supported with openvino backend" in (r.reason or ""), r.reason
        assert r.error is None
        assert r.timings.epochs_s == [] and r.metrics.per_epoch == []
        assert r.model.params and r.model.params > 0
        assert r.inference and r.inference["trained"] is False and r.inference["samples_per_s"] > 0


def test_torch_environment_is_the_cpu_build(smoke_run: dict) -> None:
    r = smoke_run["cells"][("keras3-torch", "mnist_mlp")]
    assert r.environment.packages["torch"] == "2.13.0+cpu"
    assert not [p for p in r.environment.packages if p.startswith("nvidia-")]


def test_summary_holds_every_cell(smoke_run: dict) -> None:
    summary = json.loads((smoke_run["dir"] / "summary.json").read_text())
    assert len(summary["cells"]) == len(ENVS) * len(WORKLOADS) and summary["rejected"] == {}


def test_backend_settings_are_read_back(smoke_run: dict) -> None:
    """LSTM mode pinned (2) and in force, the prefetching feed for cifar10, cuDNN autotune off on a CPU torch."""
    for (env, workload), r in smoke_run["cells"].items():
        hp = r.model.hyperparameters
        assert hp["floatx"] == "float32"
        if workload in ("mnist_hrnn", "babi_rnn"):
            mode = hp["lstm_implementation"]
            pinned = None if env == "keras3-openvino" else 2  # openvino: no pin, Keras 3's default
            assert (mode["requested"], mode["in_force"]) == (pinned, 2), (env, mode)
        if workload == "cifar10_cnn" and env != "keras3-openvino":
            feed = hp["data_feeding"]
            assert (feed["mode"], feed["queue"], feed["workers"]) == ("background thread", 10, 1), env
        if env == "keras3-torch":
            assert r.threads.framework["torch_cudnn_benchmark"] is False  # no GPU here: torch's default kept
            # torch's own wait policy (spin, then sleep): PASSIVE was slower on a quiet machine
            assert r.threads.framework.get("OMP_WAIT_POLICY") is None
    rms = smoke_run["cells"][("keras3-jax", "mnist_mlp")].model.deviations
    assert not any("MXNet" in d for d in rms)


def test_settings_that_differ_silently_are_recorded(smoke_run: dict) -> None:
    """After fit each training cell records its float32 matmul precision (TF32), steps_per_execution and, on torch,
    dynamo's counters (workloads/settings_probe.py); on this CPU host a TF32 difference is recorded, not flagged."""
    from orchestrator.analysis.settings_match import compare_settings

    expected = {"keras3-torch": ("float32_matmul_precision", "highest", False),
                "keras3-jax": ("default_matmul_precision", None, True),
                "keras3-tensorflow": ("tensor_float_32_execution", True, True)}
    for (env, workload), r in smoke_run["cells"].items():
        if env == "keras3-openvino":
            assert r.backend_settings is None  # inference only: no fit, no settings event
            continue
        settings = r.backend_settings
        assert settings is not None and settings.errors == {}, (r.cell_id, settings)
        key, value, tf32 = expected[env]
        assert settings.matmul[key] == value and settings.matmul["tf32_matmul"] is tf32, (r.cell_id, settings.matmul)
        assert settings.matmul["device"] == "cpu" and settings.steps_per_execution == 1, r.cell_id
        if env == "keras3-torch":  # jit auto resolves to eager on torch: nothing compiled
            assert settings.torch_compile is not None and settings.torch_compile["compiled"] is False, r.cell_id
        else:
            assert settings.torch_compile is None
    flags = compare_settings(list(smoke_run["cells"].values()))
    assert flags and all(not f.flagged and f.message.endswith("n/a on CPU") for f in flags), flags
