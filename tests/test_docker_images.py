"""The Docker runtime's pure parts, no engine needed: image recipes, content-hash tags, container options,
GPU fit, `--runtime auto` and `doctor` on a machine without an engine or a GPU (this one: there is no GPU here,
so the GPU probe's answer is NVML's own "no GPU"; GPUs below are plain data for the compute-capability rules).
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from rich.console import Console

from orchestrator.workflows.setup import make_runtime
from orchestrator.environments.layout import EnvPaths
from orchestrator.core.errors import ConfigError
from orchestrator.measure.gpus import Gpu, GpuProbe, probe_gpus
from orchestrator.environments.images import KERAS3, LEGACY, gpu_fit, make_recipe
from orchestrator.config.expand import expand
from orchestrator.config.load import load_matrix
from orchestrator.rundir.layout import RunDir
from orchestrator.runtimes.base import Prepared, RunContext
from orchestrator.runtimes.docker import DockerRuntime, choose_variant, container_env, container_options
from orchestrator.runtimes.docker import EngineProbe
from orchestrator.runtimes.local import LocalRuntime
from orchestrator.execution.slots import Slot

LEGACY_ENV = """
  tf1:
    backend: tensorflow
    keras: "2.3.1"
    python: "3.6"
    requirements: requirements/keras3-jax.txt
"""


def copy_matrix(tmp_path: Path, repo: Path, extra_env: str = "", replace: tuple[str, str] | None = None) -> Path:
    (tmp_path / "requirements").mkdir(exist_ok=True)
    for req in (repo / "requirements").glob("*.txt"):
        (tmp_path / "requirements" / req.name).write_text(req.read_text())
    text = (repo / "matrix.yaml").read_text()
    if extra_env:
        text = text.replace("\nworkloads:\n", extra_env + "\nworkloads:\n", 1)
    if replace:
        assert replace[0] in text
        text = text.replace(*replace)
    path = tmp_path / "matrix.yaml"
    path.write_text(text)
    return path


K80 = Gpu(index=0, name="Tesla K80", uuid="GPU-k80", compute_capability=3.7, memory_gb=11.2)
T4 = Gpu(index=1, name="Tesla T4", uuid="GPU-t4", compute_capability=7.5, memory_gb=15.0)
A100 = Gpu(index=2, name="NVIDIA A100 80GB PCIe", uuid="GPU-a100", compute_capability=8.0, memory_gb=80.0)


def test_keras3_recipe_installs_the_same_requirements_as_the_local_runtime(repo: Path) -> None:
    loaded = load_matrix(repo / "matrix.yaml")
    cpu = make_recipe(loaded, "keras3-jax", "cpu")
    gpu = make_recipe(loaded, "keras3-jax", "gpu")
    local_requirements = (repo / "requirements" / "keras3-jax.txt").read_text()
    assert cpu.files["requirements.txt"] == gpu.files["requirements.txt"] == local_requirements
    assert cpu.base_image == KERAS3.cpu_base_image and gpu.base_image == KERAS3.gpu_base_image
    assert gpu.base_image.startswith("nvidia/cuda:12.")
    assert cpu.files["extra-requirements.txt"] == "" and "jax[cuda12]==0.10.2" in gpu.files["extra-requirements.txt"]
    assert cpu.build_args["PYTHON"] == "python3.11" and "python3.11-venv" in cpu.build_args["APT_PACKAGES"]
    assert json.loads(cpu.files["keras.json"])["backend"] == "jax"
    assert gpu.min_compute_capability == 5.2  # from matrix.yaml, over the generation's 5.0
    names = tarfile.open(fileobj=io.BytesIO(cpu.context_tar())).getnames()
    assert sorted(names) == sorted(["Dockerfile", *cpu.files])


def test_legacy_recipe_uses_cuda10_base_and_python36(tmp_path: Path, repo: Path) -> None:
    loaded = load_matrix(copy_matrix(tmp_path, repo, LEGACY_ENV))
    gpu = make_recipe(loaded, "tf1", "gpu")
    cpu = make_recipe(loaded, "tf1", "cpu")
    assert gpu.base_image is None and gpu.base_dockerfile is not None
    assert gpu.base_dockerfile.name == "cuda10.0-cudnn7.Dockerfile" and gpu.base_dockerfile.is_file()
    assert "libcudnn7=" in gpu.base_dockerfile.read_text()
    assert gpu.cuda == "10.0" and (gpu.min_compute_capability, gpu.max_compute_capability) == (3.0, 7.5)
    assert gpu.build_args["CHECK_IMPORT"] == "0" and cpu.build_args["CHECK_IMPORT"] == "1"
    assert cpu.base_image == "ubuntu:18.04" and cpu.build_args["PYTHON"] == "python3.6"
    assert cpu.build_args["PIP_SPEC"].startswith("pip<22")
    assert gpu.generation is LEGACY


def test_tag_changes_with_what_defines_the_image(tmp_path: Path, repo: Path) -> None:
    path = copy_matrix(tmp_path, repo)
    recipe = make_recipe(load_matrix(path), "keras3-jax", "cpu")
    tag = recipe.tag("sha256:base1")
    assert tag.startswith("orchestrate/keras3-jax:cpu-") and len(tag.rsplit("-", 1)[1]) == 16
    assert make_recipe(load_matrix(path), "keras3-jax", "cpu").tag("sha256:base1") == tag  # stable
    assert recipe.tag("sha256:base2") != tag  # base image id (a re-imported or updated base)
    assert make_recipe(load_matrix(path), "keras3-jax", "gpu").tag("sha256:base1").split(":")[1][:4] == "gpu-"
    req = tmp_path / "requirements" / "keras3-jax.txt"
    req.write_text(req.read_text() + "rich\n")
    assert make_recipe(load_matrix(path), "keras3-jax", "cpu").tag("sha256:base1") != tag  # requirements
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text((repo / "docker" / "Dockerfile").read_text() + "\n# changed\n")
    req.write_text(req.read_text().replace("rich\n", ""))
    changed = copy_matrix(tmp_path, repo, replace=("    image:", "    image:\n      dockerfile: Dockerfile"))
    assert make_recipe(load_matrix(changed), "keras3-jax", "cpu").tag("sha256:base1") != tag  # Dockerfile


def test_image_spec_errors_name_the_field(tmp_path: Path, repo: Path) -> None:
    path = copy_matrix(tmp_path, repo, replace=("    image:", "    image:\n      bas_image: x"))
    with pytest.raises(ConfigError) as err:
        load_matrix(path)
    assert "environments.keras3-jax.image.bas_image: unknown key" in str(err.value)
    assert "cpu_base_image" in str(err.value)
    path = copy_matrix(tmp_path, repo, replace=("    image:", "    image:\n      dockerfile: docker/Nope"))
    with pytest.raises(ConfigError) as err:
        make_recipe(load_matrix(path), "keras3-jax", "cpu")
    assert "environments.keras3-jax.image.dockerfile" in str(err.value) and "docker/Nope" in str(err.value)


def test_gpu_fit_by_compute_capability(tmp_path: Path, repo: Path) -> None:
    loaded = load_matrix(copy_matrix(tmp_path, repo, LEGACY_ENV))
    keras3 = make_recipe(loaded, "keras3-jax", "gpu")
    legacy = make_recipe(loaded, "tf1", "gpu")
    assert gpu_fit(keras3, K80.name, 3.7).reason == "needs compute capability >= 5.2; Tesla K80 is 3.7"
    assert not gpu_fit(keras3, K80.name, 3.7).ok and gpu_fit(keras3, A100.name, 8.0).ok
    assert gpu_fit(legacy, K80.name, 3.7).ok and gpu_fit(legacy, T4.name, 7.5).ok
    a100 = gpu_fit(legacy, A100.name, 8.0)
    assert not a100.ok and "3 to 7.5" in a100.reason and "Ampere" in a100.reason
    assert not gpu_fit(keras3, "GPU", None).ok


def test_container_options_confine_the_cell(repo: Path, tmp_path: Path, data_dir: Path) -> None:
    loaded = load_matrix(repo / "matrix.yaml")
    cell = expand(loaded, profile="smoke", environments=["keras3-jax"], workloads=["mnist_mlp"])[0]
    prepared = Prepared("keras3-jax", loaded.matrix.environments["keras3-jax"], "abc", EnvPaths(tmp_path), "3.11.2",
                        image="orchestrate/keras3-jax:gpu-abc")
    ctx = RunContext(run_dir=RunDir(tmp_path, "r"), data_dir=data_dir, slot=Slot(index=1, cpus=(1,), gpu=1))
    env_vars = container_env(prepared, cell, "1")
    options = container_options(prepared, cell, ctx, "1", env_vars, "docker")
    assert options["network_mode"] == "none" and options["privileged"] is False and options["read_only"] is True
    modes = {path: v["mode"] for path, v in options["volumes"].items()}
    assert [p for p, m in modes.items() if m == "rw"] == [str(ctx.run_dir.logs_dir)]
    assert modes[str(data_dir)] == "ro" and modes[str(repo / "workloads")] == "ro"
    assert all(v["bind"] == path for path, v in options["volumes"].items())  # same paths inside and out
    (request,) = options["device_requests"]
    assert request["Driver"] == "nvidia" and request["DeviceIDs"] == ["1"] and request["Capabilities"][0][0] == "gpu"
    assert options["cpuset_cpus"] == "1"
    assert env_vars["NVIDIA_VISIBLE_DEVICES"] == "1" and env_vars["OMP_NUM_THREADS"] == str(cell.threads)
    assert env_vars["HOME"].startswith("/opt/orchestrate/env") and env_vars["KERAS_BACKEND"] == "jax"
    assert "LD_LIBRARY_PATH" not in env_vars  # the image's own, with its CUDA paths
    cpu_env = container_env(prepared, cell, None)
    assert cpu_env["NVIDIA_VISIBLE_DEVICES"] == "void"
    assert "device_requests" not in container_options(prepared, cell, ctx, None, cpu_env, "docker")


def test_gpu_too_old_for_the_image_is_unsupported_not_run(repo: Path, tmp_path: Path, data_dir: Path) -> None:
    """A K80 (3.7) assigned to a Keras 3 cell: recorded as unsupported with the reason; no engine is touched."""
    loaded = load_matrix(repo / "matrix.yaml")
    runtime = DockerRuntime(loaded, tmp_path, variant="gpu", gpus=GpuProbe(gpus=[K80], driver="470.256.02"))
    cell = expand(loaded, profile="smoke", environments=["keras3-jax"], workloads=["mnist_mlp"])[0]
    prepared = Prepared("keras3-jax", loaded.matrix.environments["keras3-jax"], "abc", EnvPaths(tmp_path), "3.11.2",
                        image="orchestrate/keras3-jax:gpu-abc")
    run_dir = RunDir(tmp_path, "r")
    run_dir.ensure_writable()
    result = runtime.run_cell(cell, prepared, RunContext(run_dir=run_dir, data_dir=data_dir, slot=Slot(index=0, gpu=0)))
    assert result.status == "unsupported"
    assert result.reason == "keras3-jax: needs compute capability >= 5.2; Tesla K80 is 3.7"
    assert result.environment.runtime == "docker" and result.environment.image == "orchestrate/keras3-jax:gpu-abc"
    assert runtime._client is None


def test_variant_choice() -> None:
    no_gpu = GpuProbe(error="NVML: NVML Shared Library Not Found")
    engine = EngineProbe(reachable=True, host="unix:///x", version="20.10", nvidia=True, nvidia_how="nvidia runtime")
    assert choose_variant(engine, no_gpu) == ("cpu", "no GPU (NVML: NVML Shared Library Not Found)")
    two = GpuProbe(gpus=[K80, T4], driver="535")
    assert choose_variant(engine, two)[0] == "gpu"
    assert choose_variant(EngineProbe(reachable=True, host="unix:///x"), two)[0] == "cpu"


def test_forced_variant_is_checked(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = EngineProbe(reachable=True, host="unix:///x", version="20.10", nvidia=True, nvidia_how="nvidia runtime")
    monkeypatch.setenv("ORCHESTRATE_IMAGE_VARIANT", "cpu")
    assert choose_variant(engine, GpuProbe(gpus=[K80], driver="535")) == ("cpu", "set by ORCHESTRATE_IMAGE_VARIANT")
    monkeypatch.setenv("ORCHESTRATE_IMAGE_VARIANT", "GPU!")
    with pytest.raises(ConfigError, match="ORCHESTRATE_IMAGE_VARIANT='GPU!': choose gpu or cpu"):
        choose_variant(engine, GpuProbe(gpus=[K80], driver="535"))
    with pytest.raises(ConfigError, match="ORCHESTRATE_IMAGE_VARIANT"):  # refused before any cell runs
        DockerRuntime(load_matrix(repo / "matrix.yaml"), tmp_path)


def test_auto_runtime_without_engine_is_local_and_says_why(repo: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    out = io.StringIO()
    runtime = make_runtime("auto", load_matrix(repo / "matrix.yaml"), str(tmp_path), Console(file=out, width=200))
    assert isinstance(runtime, LocalRuntime)
    # No GPU here (CI); on a GPU machine the missing engine is the reason.
    why = "no GPU (NVML:" if not probe_gpus().gpus else "but no Docker engine answers at"
    assert "runtime: local (--runtime auto: " in out.getvalue() and why in out.getvalue()
    assert isinstance(make_runtime("docker", load_matrix(repo / "matrix.yaml"), str(tmp_path), Console(file=out)),
                      DockerRuntime)
    with pytest.raises(ConfigError) as err:
        make_runtime("podman", load_matrix(repo / "matrix.yaml"), str(tmp_path), Console(file=out))
    assert "auto, local, docker" in str(err.value)


def test_docker_runtime_without_engine_fails_the_cell_with_what_to_do(repo: Path, tmp_path: Path,
                                                                      data_dir: Path) -> None:
    socket = f"unix://{tmp_path}/no-engine.sock"
    proc = subprocess.run(
        [sys.executable, "-m", "orchestrator.cli", "run", str(repo / "matrix.yaml"), "--runtime", "docker",
         "--profile", "smoke", "--env", "keras3-jax", "--workload", "mnist_mlp", "--results-dir", str(tmp_path),
         "--run-id", "noengine", "--data-dir", str(data_dir), "--cache-dir", str(tmp_path / "cache")],
        capture_output=True, text=True, env={**__import__("os").environ, "DOCKER_HOST": socket},
    )
    assert proc.returncode == 1, proc.stderr
    result = json.loads((tmp_path / "noengine" / "cells" / "keras3-jax__mnist_mlp__smoke__r0.json").read_text())
    assert result["status"] == "failed" and result["environment"]["runtime"] == "docker"
    assert result["error"]["type"] == "ContainerEngineError"
    assert socket in result["error"]["message"] and "--runtime local" in result["error"]["message"]


def test_doctor_without_engine_or_gpu(repo: Path, tmp_path: Path) -> None:
    socket = f"unix://{tmp_path}/no-engine.sock"
    proc = subprocess.run([sys.executable, "-m", "orchestrator.cli", "doctor", "--matrix", str(repo / "matrix.yaml")],
                          capture_output=True, text=True, env={**__import__("os").environ, "DOCKER_HOST": socket})
    assert proc.returncode == 0, proc.stderr
    assert f"Docker engine: not reachable. no Docker engine answers at {socket}" in proc.stdout
    if not probe_gpus().gpus:  # CI: no GPU (a GPU machine lists its GPUs with their compute capability)
        assert "GPUs: no GPU (NVML" in proc.stdout and "no GPU here: CPU image only" in proc.stdout
    else:
        assert "compute capability" in proc.stdout
    assert "--runtime auto would choose: local" in proc.stdout
    assert "keras3-jax" in proc.stdout and "nvidia/cuda:12" in proc.stdout and ">= 5.2" in proc.stdout


def test_container_carries_the_memory_limit_and_its_owner(repo: Path, tmp_path: Path) -> None:
    """memory_limit_gb becomes the container's limit (swap included); labels name run, cell and orchestrator."""
    import os as _os

    from orchestrator.runtimes.docker import WATCHDOG, _owner_gone, owner_label, watched

    loaded = load_matrix(repo / "tests" / "workloads" / "matrix.yaml")
    cell = next(c for c in expand(loaded, profile="test", workloads=["memhog"]))
    prepared = Prepared("keras3-jax", loaded.matrix.environments["keras3-jax"], "abc", EnvPaths(tmp_path), "3.11.2",
                        image="orchestrate/keras3-jax:cpu-abc")
    ctx = RunContext(run_dir=RunDir(tmp_path, "r"), data_dir=None)
    options = container_options(prepared, cell, ctx, None, container_env(prepared, cell, None), "docker")
    assert options["mem_limit"] == options["memswap_limit"] == 2**30
    labels = options["labels"]
    assert labels["org.orchestrate.run"] == "r" and labels["org.orchestrate.cell"] == cell.cell_id
    assert labels["org.orchestrate.owner"].split(":")[1] == str(_os.getpid())
    assert options["stdin_open"] is True  # the watchdog's lifeline
    assert not _owner_gone(owner_label())  # this process is alive
    host = owner_label().split(":")[0]
    assert _owner_gone(f"{host}:{_os.getpid()}:1.00")  # same PID, another start time: a reused PID, gone
    assert not _owner_gone("another-host:1:1.00")  # another machine's container is not ours to judge
    assert watched(["python", "h.py"]) == ["python", "-c", WATCHDOG, "python", "h.py"]
    sleepy = expand(loaded, profile="test", workloads=["sleepy"])[0]
    assert "mem_limit" not in container_options(prepared, sleepy, ctx, None, {}, "docker")


def test_watchdog_passes_exit_codes_and_kills_its_child_when_stdin_closes() -> None:
    """The container's first process, run here with this Python: a signal death becomes 128 + signal (as
    Docker reports it), and a closed stdin (the orchestrator gone) kills the harness at once."""
    import subprocess
    import sys
    import time

    from orchestrator.runtimes.docker import watched

    def exit_code(code: str) -> int:
        proc = subprocess.Popen(watched([sys.executable, "-c", code]), stdin=subprocess.PIPE)  # stdin held open
        try:
            return proc.wait(timeout=30)
        finally:
            proc.stdin.close()  # type: ignore[union-attr]

    assert exit_code("import os; os.abort()") == 128 + 6  # SIGABRT
    assert exit_code("import sys; sys.exit(3)") == 3
    hangs = subprocess.Popen(watched([sys.executable, "-c", "import time; time.sleep(60)"]), stdin=subprocess.PIPE)
    time.sleep(0.5)
    started = time.monotonic()
    hangs.stdin.close()  # type: ignore[union-attr]
    assert hangs.wait(timeout=10) == 128 + 9  # SIGKILL
    assert time.monotonic() - started < 5


def test_no_deps_packages_are_installed_in_the_image_as_locally(repo: Path) -> None:
    """keras-hub goes into the Keras 3 images with --no-deps after the requirements (post-build), as the local
    runtime installs it; the legacy images get no such line."""
    loaded = load_matrix(repo / "matrix.yaml")
    post_build = make_recipe(loaded, "keras3-jax", "cpu").files["post-build.sh"]
    assert "/opt/orchestrate/env/venv/bin/python -m pip install --no-deps keras-hub==0.32.0\n" in post_build
    assert "--no-deps" not in make_recipe(loaded, "tensorflow1", "cpu").files["post-build.sh"]
