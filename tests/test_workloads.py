"""The five workloads under Keras 3 (keras3-jax): one real smoke cell each, parameter counts from reference.md,
provenance, deviations; synthetic data of the same shapes; the 2017 hyperparameters as Keras 3 sees them; the
profiles in matrix.yaml."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from orchestrator.cli import main
from orchestrator.config.expand import expand
from orchestrator.config.load import load_matrix
from orchestrator.results.schema import CellResult
from orchestrator.results.io import read_cell

PARAMS = {"mnist_mlp": 669_706, "mnist_cnn": 1_199_882, "cifar10_cnn": 1_250_858, "mnist_hrnn": 199_434,
          "babi_rnn": 43_722}


def run(repo: Path, data_dir: Path, env_cache: Path, results: Path, run_id: str, *extra: str) -> int:
    return main(["run", str(repo / "matrix.yaml"), "--env", "keras3-jax", "--results-dir", str(results),
                 "--run-id", run_id, "--data-dir", str(data_dir), "--cache-dir", str(env_cache), *extra])


def cell(results: Path, run_id: str, workload: str, profile: str = "smoke") -> CellResult:
    return read_cell(results / run_id / "cells" / f"keras3-jax__{workload}__{profile}__r0.json")


@pytest.mark.integration
def test_smoke_cell_of_every_workload(repo: Path, data_dir: Path, env_cache: Path, tmp_path: Path) -> None:
    rc = run(repo, data_dir, env_cache, tmp_path, "smoke", "--profile", "smoke", *sum(
        (["--workload", w] for w in PARAMS), []))
    results = {w: cell(tmp_path, "smoke", w) for w in PARAMS}
    failed = {w: (r.status, r.error.message if r.error else r.reason) for w, r in results.items() if r.status != "ok"}
    assert rc == 0 and not failed, failed
    for workload, result in results.items():
        assert result.model.params == PARAMS[workload], workload
        assert result.data.source == "real"
        assert [e.epoch for e in result.metrics.per_epoch] == [1, 2], workload  # one fresh fit, no re-fit
        assert all(e.loss is not None and e.val_loss is not None for e in result.metrics.per_epoch), workload
        assert 0.0 <= result.metrics.test["accuracy"] <= 1.0
        assert result.timings.first_epoch_s and result.timings.steady_state_s
    cifar = results["cifar10_cnn"]
    assert cifar.data.samples == {"train": 512, "test": 256} and "held-out images 3000..3255" in cifar.data.subset
    assert cifar.model.hyperparameters["steps_per_epoch"] == 8
    assert any("steps_per_epoch 8 (upstream: len(x_train) // batch_size = 16)" in n for n in cifar.data.notes)
    assert cifar.model.hyperparameters["decay"] == 1e-6 and cifar.model.hyperparameters["lr"] == 1e-4
    assert cifar.timings.samples_per_s == pytest.approx(8 * 32 / cifar.timings.steady_state_s)
    assert results["mnist_hrnn"].data.samples == {"train": 256, "test": 128}
    babi = results["babi_rnn"]
    assert babi.model.hyperparameters["vocab_size"] == 22 and babi.model.hyperparameters["story_maxlen"] == 68
    # Keras trains on int(512 * (1 - 0.05)) = 486 (not 512 - int(512 * 0.05) = 487: Keras's own rounding)
    assert babi.timings.samples_per_s == pytest.approx(486 / babi.timings.steady_state_s)
    assert any("hard_sigmoid" in d for d in babi.model.deviations)
    assert any("sqrt(v + epsilon)" in d for d in results["mnist_hrnn"].model.deviations)
    assert results["mnist_cnn"].model.hyperparameters["lr"] == 1.0  # Adadelta as in Keras 2.0.8


@pytest.mark.integration
def test_synthetic_data_gives_the_same_models(repo: Path, data_dir: Path, env_cache: Path, tmp_path: Path) -> None:
    rc = run(repo, data_dir, env_cache, tmp_path, "syn", "--profile", "smoke", "--data", "synthetic",
             "--workload", "cifar10_cnn", "--workload", "babi_rnn")
    assert rc == 0
    for workload in ("cifar10_cnn", "babi_rnn"):
        result = cell(tmp_path, "syn", workload)
        assert result.status == "ok" and result.model.params == PARAMS[workload]
        assert result.data.source == "synthetic" and result.data.path is None and not result.data.sha256
        assert result.data.samples == {"train": 512, "test": 256}
    # random labels leave accuracy at chance: on synthetic data that is not a failure to train, only speed is judged
    html = (tmp_path / "syn" / "report" / "report.html").read_text()
    # one verdict to train and one to predict per workload (the smoke profile judges every phase), each saying it
    assert html.count("(synthetic data: speed only)") == 4 and "no valid backend" not in html
    assert "valid (synthetic data: finite loss, accuracy not judged)" in html


@pytest.mark.integration
def test_missing_cifar_and_babi_fail_the_cell_naming_the_file(repo: Path, env_cache: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    rc = run(repo, empty, env_cache, tmp_path, "nodata", "--profile", "smoke", "--workload", "cifar10_cnn",
             "--workload", "babi_rnn")
    assert rc == 1
    for workload, name in (("cifar10_cnn", "cifar10/cifar-10-python.tar.gz"),
                           ("babi_rnn", "qa1_single-supporting-fact_train.txt")):
        result = cell(tmp_path, "nodata", workload)
        assert result.status == "failed" and result.error is not None and result.error.type == "DataError"
        assert name in result.error.message and str(empty) in result.error.message


KERAS3_CHECK = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
import numpy as np, keras, compat
x = np.linspace(-4, 4, 17).astype("float32")
hs = np.asarray(keras.ops.convert_to_numpy(compat.keras2_hard_sigmoid(keras.ops.convert_to_tensor(x))))
out = {"hard_sigmoid_error": float(np.abs(hs - np.clip(0.2 * x + 0.5, 0, 1)).max()),
       "keras3_hard_sigmoid_differs": bool(np.abs(np.asarray(keras.activations.hard_sigmoid(x)) - hs).max() > 0.01)}
opt, hp, dev = compat.optimizer("adadelta")
out["adadelta"] = [float(opt.learning_rate), float(opt.epsilon), float(opt.rho)]
opt, hp, dev = compat.optimizer("rmsprop", lr=1e-4, decay=1e-6)
schedule = opt._learning_rate  # the schedule object (opt.learning_rate is its current value)
out["rmsprop_schedule"] = type(schedule).__name__
out["rmsprop_lr_at_1000"] = float(schedule(1000))
out["rmsprop_epsilon"] = float(opt.epsilon)
opt, hp, dev = compat.optimizer("adam")
out["adam"] = [float(opt.learning_rate), float(opt.beta_1), float(opt.beta_2), float(opt.epsilon)]
layer = compat.LSTM(4)
out["lstm_recurrent_activation"] = getattr(layer.cell.recurrent_activation, "__name__", "")
print(json.dumps(out))
"""


@pytest.mark.integration
def test_keras3_gets_the_2017_hyperparameters(repo: Path, env_cache: Path, tmp_path: Path) -> None:
    assert main(["build", "keras3-jax", "--matrix", str(repo / "matrix.yaml"), "--cache-dir", str(env_cache)]) == 0
    python = env_cache / "envs" / "keras3-jax" / "venv" / "bin" / "python"
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "KERAS_HOME": str(tmp_path / "keras"),
           "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}
    proc = subprocess.run([str(python), "-c", KERAS3_CHECK, str(repo / "workloads")], capture_output=True,
                          text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["hard_sigmoid_error"] < 1e-6 and out["keras3_hard_sigmoid_differs"]
    assert out["adadelta"] == pytest.approx([1.0, 1e-8, 0.95])
    assert out["rmsprop_schedule"] == "InverseTimeDecay"
    assert out["rmsprop_lr_at_1000"] == pytest.approx(1e-4 / (1 + 1e-6 * 1000))  # Keras 2: lr / (1 + decay * t)
    assert out["rmsprop_epsilon"] == pytest.approx(1e-8)
    assert out["adam"] == pytest.approx([1e-3, 0.9, 0.999, 1e-8])
    assert out["lstm_recurrent_activation"] == "keras2_hard_sigmoid"


def test_profiles_size_every_workload(repo: Path) -> None:
    loaded = load_matrix(repo / "matrix.yaml")
    assert set(loaded.matrix.default.workloads) <= set(PARAMS)  # the default run compares a subset (README)
    by = {(c.profile, c.workload): c for p in ("smoke", "quick", "article", "accuracy")
          for c in expand(loaded, profile=p, environments=["keras3-jax"], workloads=list(PARAMS))}
    assert by["smoke", "cifar10_cnn"].steps_per_epoch == 8
    assert by["quick", "babi_rnn"].epochs == 10 and by["quick", "mnist_hrnn"].train_samples == 1000
    article = {w: (by["article", w].epochs, by["article", w].batch_size, by["article", w].train_samples)
               for w in PARAMS}
    assert article == {"mnist_mlp": (20, 128, None), "mnist_cnn": (12, 128, None), "cifar10_cnn": (50, 32, None),
                       "mnist_hrnn": (5, 32, None), "babi_rnn": (40, 32, None)}
    assert by["accuracy", "babi_rnn"].epochs == 20 and by["accuracy", "mnist_cnn"].epochs == 12
