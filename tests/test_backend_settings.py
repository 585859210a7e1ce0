"""Per-environment settings (LSTM mode pin, wait policy, cuDNN autotune) reach the cell's process and
come back in the fairness table; what the caller's shell sets does not leak in."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from orchestrator.environments.layout import BUILD_RECIPE_VERSION, cell_process_env, env_hash, env_paths
from orchestrator.core.errors import ConfigError
from orchestrator.config.schema import Environment
from orchestrator.config.load import load_matrix
from orchestrator.report import fairness
from orchestrator.results.schema import CellResult, EnvironmentInfo, ModelInfo, Threads, WorkloadInfo
from tests.test_matrix import base, write


def test_lstm_mode_zero_is_refused_where_keras_dropped_it(tmp_path: Path, repo: Path) -> None:
    text = base(repo).replace("    lstm_implementation: 2          # Keras 2.3.1's default",
                              "    lstm_implementation: 0          # Keras 2.3.1's default", 1)
    with pytest.raises(ConfigError) as err:
        load_matrix(write(tmp_path, repo, text))
    message = str(err.value)
    assert "environments.tensorflow1" in message and "lstm_implementation 0 does not exist in Keras 2.3.1" in message
    # Keras 1.2.2 and 2.0 have mode 0; 3 is no mode anywhere
    assert Environment(backend="mxnet", keras="1.2.2", python="3.6", requirements="r.txt",
                       lstm_implementation=0).lstm_implementation == 0
    assert Environment(backend="tensorflow", keras="2.0.8", python="3.6", requirements="r.txt",
                       lstm_implementation=0).lstm_implementation == 0
    with pytest.raises(ValueError):
        Environment(backend="jax", keras="3.15.1", python="3.11", requirements="r.txt", lstm_implementation=3)


def test_matrix_pins_reach_the_process_and_the_callers_do_not(tmp_path: Path, repo: Path) -> None:
    loaded = load_matrix(repo / "matrix.yaml")
    caller = {"PATH": "/usr/bin", "OMP_WAIT_POLICY": "ACTIVE", "ORCHESTRATE_LSTM_IMPLEMENTATION": "1",
              "ORCHESTRATE_DATA_FEED": "inline", "ORCHESTRATE_CIFAR10_EVAL": "augmented", "KMP_BLOCKTIME": "200"}
    pins = {"cntk": "2", "mxnet-keras1": "0", "mxnet-keras2": "1", "keras3-torch": "2"}
    for name, mode in pins.items():
        env = cell_process_env(env_paths(tmp_path, name), loaded.matrix.environments[name], 2, 0, base=caller)
        assert env["ORCHESTRATE_LSTM_IMPLEMENTATION"] == mode
        assert "OMP_WAIT_POLICY" not in env, name  # the caller's ACTIVE does not reach the cell
        matrix_env = loaded.matrix.environments[name].model_copy(update={"env": {"OMP_WAIT_POLICY": "PASSIVE"}})
        pinned = cell_process_env(env_paths(tmp_path, name), matrix_env, 2, 0, base=caller)
        assert pinned["OMP_WAIT_POLICY"] == "PASSIVE", name  # the matrix's, not the caller's ACTIVE
        assert "ORCHESTRATE_DATA_FEED" not in env and "ORCHESTRATE_CIFAR10_EVAL" not in env
        assert "KMP_BLOCKTIME" not in env
    tf1 = cell_process_env(env_paths(tmp_path, "tensorflow1"), loaded.matrix.environments["tensorflow1"], 2, 0,
                           base=caller)
    assert "OMP_WAIT_POLICY" not in tf1 and tf1["TF_CUDNN_USE_AUTOTUNE"] == "1"


# Fields added after environments were first built: at their defaults they leave the hash alone.
ADDED_LATER = ("no_deps", "api", "configurations", "base", "configuration", "warm_start")


def test_an_lstm_pin_changes_the_environment_hash_and_no_pin_keeps_it() -> None:
    env = Environment(backend="jax", keras="3.15.1", python="3.11", requirements="r.txt")
    pinned = env.model_copy(update={"lstm_implementation": 2})
    assert env_hash("e", env, "keras==3", "py") != env_hash("e", pinned, "keras==3", "py")
    # unset: the field is left out, so environments made before it keep their hash (and their build)
    before = {"recipe": BUILD_RECIPE_VERSION, "name": "e", "requirements": "keras==3", "interpreter": "py",
              "environment": env.model_dump(mode="json", exclude={"notes", "image", "requirements", "build", "wheels",
                                                                  "lstm_implementation", *ADDED_LATER})}
    digest = hashlib.sha256(json.dumps(before, sort_keys=True).encode()).hexdigest()[:16]
    assert env_hash("e", env, "keras==3", "py") == digest
    for changed in ({"api": "native", "keras": ""}, {"no_deps": ["keras-hub==0.32.0"]}):  # set: they count
        assert env_hash("e", env.model_copy(update=changed), "keras==3", "py") != digest, changed


def _result(env: str, backend: str, keras: str, workload: str, **model: object) -> CellResult:
    framework = {"requested": 2, "tf_intra_op": 2, "tf_inter_op": 2, "OMP_WAIT_POLICY": "PASSIVE"}
    return CellResult(
        run_id="r", cell_id=f"{env}__{workload}__smoke__r0", status="ok",
        environment=EnvironmentInfo(name=env, backend=backend, keras_version=keras, python_version="3.6.15",
                                    runtime="local", framework_version="1.15.5"),
        workload=WorkloadInfo(name=workload, profile="smoke", epochs=2, batch_size=32),
        model=ModelInfo(**model), threads=Threads(requested=2, framework=framework),
    )


def test_fairness_rows_come_from_the_results() -> None:
    lstm = {"requested": 2, "in_force": 2, "means": "mode 2"}
    feed = {"mode": "background thread", "queue": 10, "workers": 1}
    results = [
        _result("tensorflow1", "tensorflow", "2.3.1", "babi_rnn", deviations=["a"],
                hyperparameters={"lstm_implementation": lstm, "floatx": "float32"}),
        _result("tensorflow1", "tensorflow", "2.3.1", "cifar10_cnn", deviations=["a", "b"],
                hyperparameters={"data_feeding": feed, "floatx": "float32"}),
        _result("keras3-jax", "jax", "3.15.1", "cifar10_cnn",
                hyperparameters={"jit_compile": {"means": "jax.jit: XLA"}, "data_feeding": dict(feed, mode="inline",
                                                                                                  queue=0)}),
    ]
    rows = {row.environment: row for row in fairness.fairness_rows(results)}
    tf1, jax = rows["tensorflow1"], rows["keras3-jax"]
    assert tf1.lstm == "mode 2 (pinned)" and tf1.feeding == "background thread, queue 10"
    assert tf1.deviations == ("a", "b") and tf1.precision == "float32" and tf1.wait_policy == "PASSIVE"
    assert tf1.threads == "2 (tf_intra_op=2, tf_inter_op=2)" and tf1.jit == "static graph (Keras 1/2)"
    assert jax.feeding == "inline, queue 0" and jax.jit == "jax.jit: XLA" and jax.lstm == "-"
    html = fairness.html_section(results)
    assert '<table id="fairness">' in html and "<li>b</li>" in html
    assert fairness.terminal_table(results).row_count == 2
