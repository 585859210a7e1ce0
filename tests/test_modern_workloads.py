"""workloads/modern: the four models build on the three Keras 3 backends with the same parameter count.

Each environment (real keras3-tensorflow, keras3-jax, keras3-torch venvs with keras-hub installed --no-deps)
builds every modern model at a tiny size on synthetic data through the harness's own loader (load_workload:
load, build, the contract checks) and prints its parameter count; the counts must agree across backends.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from orchestrator.core import workload_files
from orchestrator.environments.layout import cell_process_env
from orchestrator.config.load import load_matrix
from orchestrator.runtimes.local import LocalRuntime

pytestmark = pytest.mark.integration

ENVS = ["keras3-tensorflow", "keras3-jax", "keras3-torch"]
MODERN = ["bert_classifier", "gpt2_causal_lm", "resnet50", "vit_classifier"]
TINY = {"num_layers": 1, "num_heads": 2, "hidden_dim": 32, "intermediate_dim": 64, "mlp_dim": 64, "patch_size": 8}

PROBE = r"""
import json, sys
import harness, compat
out = {}
for name, spec in json.loads(sys.argv[1]).items():
    workload = harness.load_workload(spec, compat)
    data, info = workload.load(spec)
    model, model_info = workload.build(spec, data)
    out[name] = {"params": int(model.count_params()), "source": info["source"],
                 "pipeline": model_info["hyperparameters"]["input_pipeline"]}
print("PARAMS " + json.dumps(out))
"""


def specs(repo: Path, tmp_path: Path) -> dict[str, dict[str, object]]:
    loaded = load_matrix(repo / "matrix.yaml")
    return {name: {"workload": name, "script": str(loaded.script_path(name)), "dataset": loaded.matrix.workloads[name].dataset,
                   "seed": 1, "batch_size": 8, "epochs": 1, "train_samples": 16, "test_samples": 8, "options": TINY,
                   "data": {"source": "synthetic", "dir": None, "cache_dir": str(tmp_path)}}
            for name in MODERN}


def test_modern_models_have_equal_parameter_counts_across_backends(repo: Path, env_cache: Path,
                                                                   tmp_path: Path) -> None:
    loaded = load_matrix(repo / "matrix.yaml")
    runtime = LocalRuntime(loaded, env_cache)
    counts = {}
    for env in ENVS:
        prepared = runtime.prepare(env)
        assert prepared.packages.get("keras-hub") == "0.32.0" and "tensorflow-text" not in prepared.packages
        proc = subprocess.run([str(prepared.paths.python), "-c", PROBE, json.dumps(specs(repo, tmp_path))],
                              cwd=workload_files.workloads_dir(), capture_output=True, text=True, timeout=600,
                              env=cell_process_env(prepared.paths, prepared.environment, threads=2, seed=1))
        line = [l for l in proc.stdout.splitlines() if l.startswith("PARAMS ")]
        assert proc.returncode == 0 and line, proc.stderr[-3000:]
        counts[env] = json.loads(line[0][len("PARAMS "):])
    params = {env: {name: c["params"] for name, c in found.items()} for env, found in counts.items()}
    assert params["keras3-jax"] == params["keras3-tensorflow"] == params["keras3-torch"], params
    assert params["keras3-jax"]["resnet50"] == 23_608_202  # keras.applications.ResNet50, 32x32x3, 10 classes
    assert all(c["source"] == "synthetic" for found in counts.values() for c in found.values())
    pipelines = {env: found["bert_classifier"]["pipeline"] for env, found in counts.items()}
    assert pipelines == {"keras3-tensorflow": "tensorflow (tf.data)", "keras3-jax": "grain", "keras3-torch": "grain"}


GENERATE = r"""
import json, sys
import harness, compat
spec = json.loads(sys.argv[1])
workload = harness.load_workload(spec, compat)
data, info = workload.load(spec)
model, model_info = workload.build(spec, data)
print("GENERATE " + json.dumps(workload.evaluate(spec, model, data)))
"""


def test_generation_speed_is_the_median_of_a_timed_window(repo: Path, env_cache: Path, tmp_path: Path) -> None:
    """One generate() call of a tiny model takes milliseconds: the figure is the median of calls filling a window."""
    loaded = load_matrix(repo / "matrix.yaml")
    prepared = LocalRuntime(loaded, env_cache).prepare("keras3-torch")
    spec = specs(repo, tmp_path)["gpt2_causal_lm"]
    spec["options"] = dict(TINY, generate_tokens=2, generate_batch=4, generate_min_s=0.3)
    proc = subprocess.run([str(prepared.paths.python), "-c", GENERATE, json.dumps(spec)],
                          cwd=workload_files.workloads_dir(), capture_output=True, text=True, timeout=600,
                          env=cell_process_env(prepared.paths, prepared.environment, threads=2, seed=1))
    line = [l for l in proc.stdout.splitlines() if l.startswith("GENERATE ")]
    assert proc.returncode == 0 and line, proc.stderr[-3000:]
    found = json.loads(line[0][len("GENERATE "):])
    assert 3 <= found["generate_calls"] <= 50
    assert found["generate_window_s"] >= 0.3 or found["generate_calls"] == 50
    mean_call = found["generate_window_s"] / found["generate_calls"]
    assert found["generate_tokens_per_s"] > 0 and found["generate_batch"] == 4 and found["generate_new_tokens"] == 2
    # the median call lies within the calls' range around their mean: not one call's figure scaled by a window
    assert 0.2 * mean_call < 4 * 2 / found["generate_tokens_per_s"] < 5 * mean_call
