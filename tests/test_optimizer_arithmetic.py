"""What keras-mxnet's optimizers compute, one step at a time, against Keras 2.0.8's rules.

keras-mxnet (1.2.2.1 and 2.2.4.3) swaps Keras' RMSprop, Adadelta and Adam for MXNet's own. A probe runs three
train_on_batch steps of a one-weight-vector linear model (mse, no bias) inside the real environment, with the
optimizer made by compat.optimizer; the host replays the same steps with each update rule written out in numpy.
The gradients are set large (~1) and small (~1e-4), where an epsilon inside or outside the square root differs.
tensorflow1 (Keras 2.3.1's own optimizers, the Keras 2.0.8 arithmetic) is the control: the probe must tell the two
rules apart there too.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from orchestrator.core import workload_files
from orchestrator.environments.layout import cell_process_env
from orchestrator.config.load import load_matrix
from orchestrator.runtimes.local import LocalRuntime

pytestmark = pytest.mark.integration

STEPS = 3
X = np.array([[1.0, 2.0], [3.0, -1.0], [0.5, 0.25], [-2.0, 1.0]])
Y = np.array([[1.0], [0.0], [2.0], [-1.0]])
W0 = np.array([[0.1], [-0.2]])
# Inputs, targets and initial weights scaled together: gradients ~1 and ~1e-4 (where epsilon=1e-8 matters),
# the weights small enough at the small scale for float32 to resolve the steps.
SCALES = (1.0, 1e-2)
HP = {"rmsprop": {"lr": 0.001, "rho": 0.9, "epsilon": 1e-8},
      "adadelta": {"lr": 1.0, "rho": 0.95, "epsilon": 1e-8},
      "adam": {"lr": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-8}}

PROBE = r"""
import json
import numpy as np
import compat, keras
results = {}
for name in %(names)s:
    for scale in %(scales)s:
        x = np.array(%(x)s, dtype="float32") * scale
        y = np.array(%(y)s, dtype="float32") * scale
        w0 = np.array(%(w0)s, dtype="float32") * scale  # initial weights: keras-mxnet 1 drops set_weights before the bind
        bias = {"bias": False} if compat.MAJOR == 1 else {"use_bias": False}
        inputs = keras.layers.Input(shape=(2,))
        dense = keras.layers.Dense(1, weights=[w0], **bias)
        model = compat.Model(inputs, dense(inputs))
        opt, hp, deviations = compat.optimizer(name)
        model.compile(loss="mse", optimizer=opt)
        weights = []
        for _ in range(%(steps)d):
            model.train_on_batch(x, y)
            kernel = dense.trainable_weights[0]
            module = getattr(model, "_mod", None) or getattr(model, "_module", None)
            if module is not None:  # keras-mxnet: the trained values live in MXNet's module, copied back lazily
                value = module.get_params()[0][kernel.name].asnumpy()
            else:
                value = keras.backend.get_value(kernel)
            weights.append(value.astype("float64").tolist())
        results["%%s %%g" %% (name, scale)] = {"weights": weights, "deviations": deviations,
                                             "mro": [c.__module__ for c in type(opt).__mro__]}
print("PROBE " + json.dumps(results))
""" % {"names": sorted(HP), "x": X.tolist(), "y": Y.tolist(), "w0": W0.tolist(), "steps": STEPS, "scales": SCALES}


def _grad(w: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return 2.0 / len(x) * x.T @ (x @ w - y)  # Keras' mse: the mean over the batch of (xw - y)^2


def replay(name: str, rule: str, scale: float) -> list[np.ndarray]:
    """STEPS updates with Keras 2.0.8's rule ('keras') or MXNet's ('mxnet'), in float64."""
    hp, x, y, w = HP[name], X * scale, Y * scale, W0 * scale
    a, d, m, v, out = np.zeros_like(w), np.zeros_like(w), np.zeros_like(w), np.zeros_like(w), []
    for t in range(1, STEPS + 1):
        g = _grad(w, x, y)
        if name == "rmsprop":
            a = hp["rho"] * a + (1 - hp["rho"]) * g * g
            denominator = np.sqrt(a) + hp["epsilon"] if rule == "keras" else np.sqrt(a + hp["epsilon"])
            w = w - hp["lr"] * g / denominator
        elif name == "adadelta":
            a = hp["rho"] * a + (1 - hp["rho"]) * g * g
            update = g * np.sqrt(d + hp["epsilon"]) / np.sqrt(a + hp["epsilon"])
            w = w - (hp["lr"] if rule == "keras" else 1.0) * update  # MXNet's AdaDelta has no learning rate
            d = hp["rho"] * d + (1 - hp["rho"]) * update * update
        else:  # adam: the same rule in both
            lr_t = hp["lr"] * np.sqrt(1 - hp["beta_2"] ** t) / (1 - hp["beta_1"] ** t)
            m = hp["beta_1"] * m + (1 - hp["beta_1"]) * g
            v = hp["beta_2"] * v + (1 - hp["beta_2"]) * g * g
            w = w - lr_t * m / (np.sqrt(v) + hp["epsilon"])
        out.append(w.copy())
    return out


def steps_taken(weights: list, scale: float) -> np.ndarray:
    """The per-step weight changes (what the rules differ in), relative to the start."""
    return np.diff(np.concatenate([W0[None] * scale, np.array(weights)]), axis=0)


def matches(probe: list, rule: list[np.ndarray], scale: float) -> bool:
    return bool(np.allclose(steps_taken(probe, scale), steps_taken(rule, scale), rtol=2e-3, atol=1e-9 * scale))


@pytest.fixture(scope="module")
def probes(repo: Path, env_cache: Path) -> dict:
    loaded = load_matrix(repo / "matrix.yaml")
    runtime = LocalRuntime(loaded, env_cache, log=print)
    results = {}
    for env_name in ("mxnet-keras1", "mxnet-keras2", "tensorflow1"):
        prepared = runtime.prepare(env_name)
        env = cell_process_env(prepared.paths, prepared.environment, threads=1, seed=0)
        proc = subprocess.run([str(prepared.paths.python), "-c", PROBE], env=env,
                              cwd=workload_files.workloads_dir(), capture_output=True, text=True, timeout=300)
        line = [s for s in proc.stdout.splitlines() if s.startswith("PROBE ")]
        assert proc.returncode == 0 and line, (env_name, proc.stderr[-3000:])
        for key, value in json.loads(line[0][len("PROBE "):]).items():
            name, scale = key.split()
            results[(env_name, name, float(scale))] = value
    return results


@pytest.mark.parametrize("env_name", ["mxnet-keras1", "mxnet-keras2"])
def test_mxnet_optimizers_follow_mxnets_rules_and_say_so(probes: dict, env_name: str) -> None:
    for name in HP:
        for scale in SCALES:
            probe = probes[(env_name, name, scale)]
            assert matches(probe["weights"], replay(name, "mxnet", scale), scale), (env_name, name, scale, probe)
            assert len(probe["deviations"]) == 1 and "replaced by MXNet's optimizer" in probe["deviations"][0]
            assert any(m.startswith("mxnet.optimizer") for m in probe["mro"]), probe["mro"]  # an mx.optimizer
    # RMSprop: epsilon under the root. Equal to Keras 2.0.8 at large gradients, not at small ones.
    assert matches(probes[(env_name, "rmsprop", 1.0)]["weights"], replay("rmsprop", "keras", 1.0), 1.0)
    small = probes[(env_name, "rmsprop", 1e-2)]["weights"]
    assert not matches(small, replay("rmsprop", "keras", 1e-2), 1e-2)
    ratio = steps_taken(small, 1e-2)[0] / steps_taken(replay("rmsprop", "keras", 1e-2), 1e-2)[0]
    assert np.all(ratio < 0.9), ratio  # MXNet's first steps are smaller where sqrt(n) ~ epsilon
    assert "sqrt(n + epsilon)" in probes[(env_name, "rmsprop", 1.0)]["deviations"][0]
    # Adadelta (lr=1.0) and Adam: Keras 2.0.8's arithmetic, by another kernel.
    for name in ("adadelta", "adam"):
        for scale in SCALES:
            assert matches(probes[(env_name, name, scale)]["weights"], replay(name, "keras", scale), scale)


def test_control_keras2_optimizers_follow_keras_2_0_8(probes: dict) -> None:
    """Keras 2.3.1 on TF 1.15: Keras' own optimizers, no deviation; the small-gradient RMSprop tells the rules apart."""
    for name in HP:
        for scale in SCALES:
            probe = probes[("tensorflow1", name, scale)]
            assert matches(probe["weights"], replay(name, "keras", scale), scale), (name, scale, probe)
            assert probe["deviations"] == []
            assert not any(m.startswith("mxnet") for m in probe["mro"])
    assert not matches(probes[("tensorflow1", "rmsprop", 1e-2)]["weights"], replay("rmsprop", "mxnet", 1e-2), 1e-2)
