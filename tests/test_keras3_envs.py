"""The Keras 3 environments' definitions: per-backend thread variables, CPU-only local pins, image pins."""

from __future__ import annotations

from pathlib import Path

from orchestrator.environments.layout import cell_process_env, env_paths
from orchestrator.environments.images import make_recipe
from orchestrator.config.load import load_matrix


def _pins(text: str) -> dict[str, str]:
    pins = {}
    for line in text.splitlines():
        line = line.split("#")[0].strip()
        if "==" in line:
            name, _, version = line.partition("==")
            pins[name.strip()] = version.strip()
    return pins


def test_thread_variables_per_backend(repo: Path, tmp_path: Path) -> None:
    loaded = load_matrix(repo / "matrix.yaml")
    jax = loaded.matrix.environments["keras3-jax"]
    torch = loaded.matrix.environments["keras3-torch"]
    paths = env_paths(tmp_path, "x")
    base = {"PATH": "/usr/bin", "XLA_FLAGS": "--leaked", "ORCHESTRATE_JIT_COMPILE": "true", "TORCH_HOME": "/x",
            "OMP_WAIT_POLICY": "ACTIVE", "GOMP_SPINCOUNT": "1"}
    one = cell_process_env(paths, jax, threads=1, seed=0, base=base)
    assert one["XLA_FLAGS"] == "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
    two = cell_process_env(paths, jax, threads=2, seed=0, base=base)
    assert "XLA_FLAGS" not in two and two["OMP_NUM_THREADS"] == "2"
    other = cell_process_env(paths, torch, threads=1, seed=0, base=base)
    assert "XLA_FLAGS" not in other and other["OMP_NUM_THREADS"] == "1"
    # The caller's shell does not choose the jit setting or torch's caches: only the matrix does.
    assert "ORCHESTRATE_JIT_COMPILE" not in other and "TORCH_HOME" not in other
    assert "GOMP_SPINCOUNT" not in other and "OMP_WAIT_POLICY" not in one
    assert "OMP_WAIT_POLICY" not in other  # torch keeps its default wait policy (measured faster on a quiet machine)
    # A wait policy reaches a cell only through the matrix's `env:`.
    passive = torch.model_copy(update={"env": {"OMP_WAIT_POLICY": "PASSIVE"}})
    assert cell_process_env(paths, passive, threads=1, seed=0, base=base)["OMP_WAIT_POLICY"] == "PASSIVE"


def test_local_pins_are_cpu_builds_and_images_get_the_gpu_capable_ones(repo: Path) -> None:
    loaded = load_matrix(repo / "matrix.yaml")
    local = {name: _pins(loaded.requirements_path(name).read_text())
             for name in ("keras3-tensorflow", "keras3-torch", "keras3-openvino")}
    assert local["keras3-tensorflow"]["tensorflow-cpu"] == "2.21.0"
    assert local["keras3-torch"]["torch"] == "2.13.0+cpu"  # the CPU wheel only: never a CUDA build locally
    assert local["keras3-openvino"]["openvino"] == "2026.4.1"
    assert all(p["keras"] == "3.15.1" for p in local.values())
    assert loaded.matrix.environments["keras3-openvino"].capabilities == ["infer"]

    tf_gpu = make_recipe(loaded, "keras3-tensorflow", "gpu")
    assert _pins(tf_gpu.files["requirements.txt"])["tensorflow"] == "2.21.0"
    assert "tensorflow-cpu" not in _pins(tf_gpu.files["requirements.txt"])
    assert tf_gpu.files["extra-requirements.txt"].strip() == "tensorflow[and-cuda]==2.21.0"
    torch_cpu = make_recipe(loaded, "keras3-torch", "cpu")
    assert _pins(torch_cpu.files["requirements.txt"])["torch"] == "2.13.0"
    assert make_recipe(loaded, "keras3-torch", "gpu").min_compute_capability == 7.5
    # Everything else in the image pins is the local pins.
    for name, image_file in (("keras3-tensorflow", tf_gpu), ("keras3-torch", torch_cpu)):
        image = _pins(image_file.files["requirements.txt"])
        same = {k: v for k, v in local[name].items() if k not in ("tensorflow-cpu", "torch")}
        assert {k: image[k] for k in same} == same
