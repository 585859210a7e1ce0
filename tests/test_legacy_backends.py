"""Acceptance: the article's backends for real.

One integration test runs exactly `orchestrate run matrix.yaml --profile smoke --env cntk --env theano
--env mxnet-keras1 --env mxnet-keras2 --env tensorflow1 --all` (25 cells, real data, real Python 3.6 environments)
and checks every result: status, parameter counts against reference.md, exact package versions, the image
data format, compile time apart from epochs, thread settings and the deviations a backend forces.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from orchestrator.cli import main
from orchestrator.results.schema import CellResult
from orchestrator.results.io import read_cell

pytestmark = pytest.mark.integration

LEGACY_ENVS = ["cntk", "theano", "mxnet-keras1", "mxnet-keras2", "tensorflow1"]
PARAMS = {"mnist_mlp": 669_706, "mnist_cnn": 1_199_882, "cifar10_cnn": 1_250_858, "mnist_hrnn": 199_434,
          "babi_rnn": 43_722}
# What `pip freeze` must show: the exact versions of the frameworks and their Keras.
PACKAGES = {
    "tensorflow1": {"tensorflow": "1.15.5", "keras": "2.3.1", "numpy": "1.18.5"},
    "cntk": {"cntk": "2.7", "keras": "2.3.1", "numpy": "1.19.5"},  # the cntk==2.7.post2 wheel says 2.7
    "theano": {"theano": "1.0.5", "keras": "2.3.1", "numpy": "1.19.5"},
    "mxnet-keras1": {"keras-mxnet": "1.2.2.1", "mxnet-mkl": "1.4.1", "numpy": "1.14.6"},
    "mxnet-keras2": {"keras-mxnet": "2.2.4.3", "mxnet": "1.9.1", "numpy": "1.19.5"},
}
VERSIONS = {  # (keras.__version__, the framework's own __version__) as the harness reads them
    "tensorflow1": ("2.3.1", "1.15.5"), "cntk": ("2.3.1", "2.7"), "theano": ("2.3.1", "1.0.5"),
    "mxnet-keras1": ("1.2.2", "1.4.1"), "mxnet-keras2": ("2.2.4.3", "1.9.1"),
}
CHANNELS_FIRST = {"mxnet-keras1", "mxnet-keras2"}
RNN_WORKLOADS = ("mnist_hrnn", "babi_rnn")


def _cell(results: Path, env: str, workload: str) -> CellResult:
    return read_cell(results / "legacy" / "cells" / f"{env}__{workload}__smoke__r0.json")


@pytest.fixture(scope="module")
def legacy_run(repo: Path, data_dir: Path, env_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    results = tmp_path_factory.mktemp("legacy-results")
    # --all: the five workloads; two slots, so that Theano's first compiles (30-70 s a model on a fresh cache, one
    # core) overlap the other backends' cells
    args = ["run", str(repo / "matrix.yaml"), "--profile", "smoke", "--all", "--slots", "2"]
    for env in LEGACY_ENVS:
        args += ["--env", env]
    rc = main(args + ["--results-dir", str(results), "--run-id", "legacy", "--data-dir", str(data_dir),
                      "--cache-dir", str(env_cache)])
    cells = {(env, wl): _cell(results, env, wl) for env in LEGACY_ENVS for wl in PARAMS}
    return {"rc": rc, "cells": cells, "results": results}


def test_all_25_cells_run_with_reference_parameter_counts(legacy_run: dict) -> None:
    cells: dict[tuple[str, str], CellResult] = legacy_run["cells"]
    assert len(cells) == 25
    bad = {f"{e}/{w}": (r.status, r.reason, r.error.log_tail[-1500:] if r.error else None)
           for (e, w), r in cells.items() if r.status != "ok" and not (r.status == "unsupported" and r.reason)}
    assert not bad, bad
    # Every one of the 25 runs here (none needs `unsupported`): a regression to unsupported must show.
    assert {r.status for r in cells.values()} == {"ok"}, {k: r.reason for k, r in cells.items() if r.reason}
    assert legacy_run["rc"] == 0
    for (env, workload), r in cells.items():
        assert r.model.params == PARAMS[workload], (env, workload, r.model.params)
        assert r.data.source == "real"
        assert [e.epoch for e in r.metrics.per_epoch] == [1, 2], (env, workload)
        # Keras 1.2.2 logs 'acc'/'val_acc': normalised to accuracy / val_accuracy
        assert all(e.loss is not None and e.accuracy is not None and e.val_loss is not None
                   for e in r.metrics.per_epoch), (env, workload)
        assert 0.0 <= r.metrics.test["accuracy"] <= 1.0
        assert r.timings.first_epoch_s and r.timings.steady_state_s


def test_results_carry_exact_versions_and_data_format(legacy_run: dict) -> None:
    for (env, workload), r in legacy_run["cells"].items():
        info = r.environment
        assert info.python_version.startswith("3.6."), (env, info.python_version)
        assert (info.keras_version, info.framework_version) == VERSIONS[env], env
        for package, version in PACKAGES[env].items():
            assert info.packages.get(package) == version, (env, package, info.packages.get(package))
        expected = "channels_first" if env in CHANNELS_FIRST else "channels_last"
        assert info.image_data_format == expected, (env, workload)


def test_compile_time_is_reported_apart_from_epochs(legacy_run: dict) -> None:
    cells = legacy_run["cells"]
    for (env, workload), r in cells.items():
        assert r.timings.compile_s is not None and r.timings.compile_s >= 0, (env, workload)
        # the train/test functions are built before fit: in neither the fit time nor the epochs
        assert r.timings.fit_s >= sum(r.timings.epochs_s)
    # Theano compiles C for every model (cached per environment; still > 0 s just to load the cache)
    assert all(cells[("theano", w)].timings.compile_s > 0.05 for w in PARAMS)


def test_threads_are_applied_in_every_framework(legacy_run: dict) -> None:
    for (env, workload), r in legacy_run["cells"].items():
        requested = r.threads.requested
        framework = r.threads.framework
        assert r.threads.env["OMP_NUM_THREADS"] == str(requested)
        if env == "tensorflow1":
            assert framework["tf1_session_intra_op"] == requested  # read back from Keras' own TF1 session
            assert framework["tf1_session_inter_op"] == requested
        elif env == "cntk":
            assert framework["cntk_max_cpu_threads"] == requested
        elif env == "theano":
            assert "theano_openmp" in framework and "theano_blas_ldflags" in framework
        else:
            assert framework["mxnet_mkldnn"] is True  # mxnet-mkl 1.4.1 and mxnet 1.9.1 both ship MKL-DNN


def test_deviations_forced_by_mxnet_are_recorded(legacy_run: dict) -> None:
    cells = legacy_run["cells"]
    for env in CHANNELS_FIRST:
        for workload in RNN_WORKLOADS:
            assert any("unroll" in d for d in cells[(env, workload)].model.deviations), (env, workload)
        assert any("fixed batch size of 32" in d for d in cells[(env, "babi_rnn")].model.deviations), env
    assert any("TimeDistributed" in d for d in cells[("mxnet-keras2", "mnist_hrnn")].model.deviations)
    for env in ("tensorflow1", "cntk", "theano"):
        for workload in PARAMS:
            assert not any("unroll" in d or "fixed batch" in d for d in cells[(env, workload)].model.deviations)


def test_cntk_mpi_links_are_private_to_the_environment(env_cache: Path, legacy_run: dict) -> None:
    lib = env_cache / "envs" / "cntk" / "lib"
    for old, new in (("libmpi.so.12", "libmpi.so.40"), ("libmpi_cxx.so.1", "libmpi_cxx.so.40")):
        link = lib / old
        assert link.is_symlink() and link.resolve().is_file(), link
        assert os.readlink(link).endswith(new)
    assert not (env_cache / "envs" / "theano" / "lib").exists()
    assert legacy_run["cells"][("cntk", "mnist_mlp")].status == "ok"  # CNTK imported through those links


# The settings in force, read back from each framework inside the cells.
LSTM_PINS = {"tensorflow1": 2, "cntk": 2, "theano": 2, "mxnet-keras1": 0, "mxnet-keras2": 1}
OPTIMIZERS = {"mnist_mlp": "RMSprop", "mnist_cnn": "Adadelta", "cifar10_cnn": "RMSprop", "mnist_hrnn": "RMSprop",
              "babi_rnn": "Adam"}


def test_lstm_mode_pinned_by_the_matrix_is_the_one_in_force(legacy_run: dict) -> None:
    for (env, workload), r in legacy_run["cells"].items():
        mode = r.model.hyperparameters.get("lstm_implementation")
        if workload not in RNN_WORKLOADS:
            assert mode is None, (env, workload)
            continue
        assert (mode["requested"], mode["in_force"]) == (LSTM_PINS[env], LSTM_PINS[env]), (env, workload, mode)
        assert mode["means"].startswith(f"mode {LSTM_PINS[env]}:")


def test_mxnet_optimizers_are_deviations_in_every_mxnet_cell(legacy_run: dict) -> None:
    for (env, workload), r in legacy_run["cells"].items():
        swapped = [d for d in r.model.deviations if "replaced by MXNet's optimizer" in d]
        if env in CHANNELS_FIRST:
            assert len(swapped) == 1 and swapped[0].startswith(OPTIMIZERS[workload]), (env, workload, swapped)
        else:
            assert not swapped, (env, workload)
    cifar = legacy_run["cells"][("mxnet-keras2", "cifar10_cnn")].model.deviations
    assert any("sqrt(n + epsilon)" in d and "counted from 1" in d for d in cifar)  # RMSprop with decay


def test_wait_policy_feeding_and_precision_are_recorded(legacy_run: dict) -> None:
    for (env, workload), r in legacy_run["cells"].items():
        policy = r.threads.framework.get("OMP_WAIT_POLICY")
        assert policy is None, (env, policy)  # every backend's own wait policy (PASSIVE was slower when quiet)
        assert r.model.hyperparameters["floatx"] == "float32"
        if workload == "cifar10_cnn":
            feed = r.model.hyperparameters["data_feeding"]
            assert (feed["mode"], feed["queue"], feed["workers"]) == ("background thread", 10, 1)
            assert r.model.hyperparameters["evaluation"] == "clean"
            assert any("evaluate_generator on augmented test batches" in d for d in r.model.deviations)


def test_babi_trains_on_the_keras_split(legacy_run: dict) -> None:
    for env in LEGACY_ENVS:
        r = legacy_run["cells"][(env, "babi_rnn")]
        # smoke: 512 questions, validation_split 0.05: Keras trains on int(512 * 0.95) = 486, not 512 - 25 = 487
        assert r.timings.samples_per_s * r.timings.steady_state_s == pytest.approx(486), env
