"""The GPU check's matrix: keras3-torch and keras3-jax as existing environments on the GPU machine's interpreters.

    python scripts/gpu_matrix.py SOURCE_MATRIX TARGET_MATRIX TORCH_PYTHON JAX_PYTHON

Each environment takes the project matrix's `env:` settings. keras3-jax also gets
XLA_PYTHON_CLIENT_PREALLOCATE=false: JAX would otherwise reserve 75% of the card at its first use, so its
"memory max" would be that reservation, not what the model needs (the cell environment drops the caller's
XLA_* variables; only a matrix's `env:` reaches the cell).
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import yaml

from orchestrator.config.schema import only_environments

JAX_GPU_ENV = {"XLA_PYTHON_CLIENT_PREALLOCATE": "false"}


def gpu_matrix(raw: dict[str, Any], torch_py: str, jax_py: str) -> dict[str, Any]:
    envs = raw["environments"]
    keras = envs["keras3-jax"]["keras"]
    environments = {
        "keras3-torch": {"backend": "torch", "keras": keras, "python": torch_py, "build": "none",
                         "env": dict(envs["keras3-torch"].get("env") or {}),
                         "notes": "existing interpreter (build: none): its own CUDA build of PyTorch"},
        "keras3-jax": {"backend": "jax", "keras": keras, "python": jax_py, "build": "none",
                       "env": {**(envs["keras3-jax"].get("env") or {}), **JAX_GPU_ENV},
                       "notes": "existing interpreter (build: none): its own CUDA build of JAX; no preallocation"},
    }
    environments.update(native_environments(torch_py, jax_py))  # the cost of Keras on the GPU
    raw = only_environments(raw, environments)
    raw["default"] = {"profile": "gpu-check", "environments": list(environments), "workloads": ["mnist_mlp", "mnist_cnn"]}
    raw["profiles"] = {
        "gpu-check": {"description": "the GPU check: full MNIST, 4 epochs (3 steady)", "epochs": 4, "timeout_s": 150},
        "gpu-dry": {"description": "the GPU check's dry run on CPU devices", "epochs": 2, "train_samples": 512,
                    "test_samples": 256, "timeout_s": 300},
    }
    raw.pop("workloads_dir", None)
    raw["reference"] = "keras3-jax"  # the article's tensorflow1 is not in this matrix
    return raw


def native_environments(torch_py: str, jax_py: str) -> dict[str, Any]:
    """The same frameworks written natively, on the same interpreters: native-torch, and native-jax where
    the JAX interpreter has flax and optax; the report's "cost of Keras" section pairs them with the Keras cells."""
    found = {}
    for name, py, check in (("native-torch", torch_py, "torch"), ("native-jax", jax_py, "flax.nnx, optax")):
        if subprocess.run([py, "-c", "import " + check], capture_output=True).returncode == 0:
            found[name] = {"backend": name.removeprefix("native-"), "api": "native", "python": py, "build": "none",
                           "notes": "existing interpreter (build: none): the framework written natively"}
    return found


def main(source: str, target: str, torch_py: str, jax_py: str) -> int:
    with open(source) as fh:
        raw = yaml.safe_load(fh)
    with open(target, "w") as fh:
        yaml.safe_dump(gpu_matrix(raw, torch_py, jax_py), fh, sort_keys=False)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:5]))
