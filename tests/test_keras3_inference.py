"""The harness's inference measurement on a real Keras 3 model with two inputs (as babi_rnn has)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from orchestrator.core import workload_files
from orchestrator.environments.layout import cell_process_env
from orchestrator.config.load import load_matrix
from orchestrator.runtimes.local import LocalRuntime

SCRIPT = r"""
import json, sys
import numpy as np
import keras
import harness

a = keras.Input(shape=(6,)); b = keras.Input(shape=(3,))
out = keras.layers.Dense(4, activation="softmax")(keras.layers.Concatenate()([a, b]))
model = keras.Model([a, b], out)
x = [np.random.rand(70, 6).astype("float32"), np.random.rand(70, 3).astype("float32")]
full = harness.measure_inference(model, x, batch_size=16)
capped = harness.measure_inference(model, x, batch_size=16, max_seconds=0.0)
small = harness.measure_inference(model, [x[0][:5], x[1][:5]], batch_size=16)
print(json.dumps({"full": full, "capped": capped, "small": small}))
"""


@pytest.mark.integration
def test_measure_inference_on_a_two_input_model(repo: Path, env_cache: Path) -> None:
    loaded = load_matrix(repo / "matrix.yaml")
    prepared = LocalRuntime(loaded, env_cache).prepare("keras3-jax")
    env = cell_process_env(prepared.paths, prepared.environment, threads=1, seed=0)
    proc = subprocess.run([str(prepared.paths.python), "-c", SCRIPT], env=env, capture_output=True, text=True,
                          cwd=workload_files.workloads_dir(), timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    full, capped, small = out["full"], out["capped"], out["small"]
    # 70 samples at 16: 4 full batches timed (the partial one never compiles a new shape), after a warm-up.
    assert full["batches"] == 4 and full["samples"] == 64 and len(full["batch_s"]) == 4
    assert full["truncated"] is False and full["warmup_s"] > 0
    assert full["samples_per_s"] == pytest.approx(64 / full["seconds"], rel=1e-6)
    assert full["seconds"] == pytest.approx(sum(full["batch_s"]), abs=1e-4)
    # A time cap stops after three timed batches.
    assert capped["batches"] == 3 and capped["truncated"] is True
    # Fewer samples than a batch: one batch of what there is.
    assert small["batch_size"] == 5 and small["batches"] == 1 and small["samples"] == 5
