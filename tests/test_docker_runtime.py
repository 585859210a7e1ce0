"""Integration: a real dockerd, a real keras3-jax image built from docker/Dockerfile, a real smoke cell in it.

One module-scoped engine serves every test here: started with its own data root, socket and pid file, stopped by
its pid at the end. The GPU path (device requests, NVML inside the container) needs a GPU machine: there is no
GPU here, so these tests build and run the CPU variant; scripts/gpu-check.sh checks the GPU path on a GPU machine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest
import yaml

from orchestrator.config.expand import expand
from orchestrator.config.load import load_matrix
from orchestrator.rundir.layout import RunDir
from orchestrator.results.io import read_cell
from orchestrator.runtimes.base import RunContext
from orchestrator.runtimes.docker import DockerRuntime, container_env, container_options
import docker_engine  # tests/docker_engine.py

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def engine(env_cache: Path) -> Iterator[docker_engine.Engine]:
    started = time.perf_counter()
    running = docker_engine.start_engine(env_cache)
    print(f"\ndockerd up in {time.perf_counter() - started:.1f} s (pid {running.proc.pid}, {running.host})")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DOCKER_HOST", running.host)
        try:
            yield running
        finally:
            docker_engine.stop_engine(running)
    assert running.proc.poll() is not None, "dockerd still running after stop_engine"


@pytest.fixture(scope="module")
def base(engine: docker_engine.Engine, env_cache: Path) -> str:
    started = time.perf_counter()
    tag = docker_engine.base_image(engine, env_cache)
    print(f"base image {tag} ready in {time.perf_counter() - started:.1f} s")
    return tag


@pytest.fixture(scope="module")
def matrix(repo: Path, base: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository's matrix with the CPU base overridden by the local base (paths made absolute)."""
    raw = yaml.safe_load((repo / "matrix.yaml").read_text())
    for env in raw["environments"].values():
        env["requirements"] = str(repo / env["requirements"])
        if (env.get("image") or {}).get("requirements"):
            env["image"]["requirements"] = str(repo / env["image"]["requirements"])
    jax = raw["environments"]["keras3-jax"]
    jax["image"] = dict(jax.get("image") or {}, cpu_base_image=base)
    path = tmp_path_factory.mktemp("docker-matrix") / "matrix.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def orchestrate(*args: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "orchestrator.cli", *args], capture_output=True, text=True,
                          env=dict(os.environ))
    print(proc.stdout[-6000:], proc.stderr[-3000:])
    return proc


def test_build_run_smoke_cell_in_docker(matrix: Path, data_dir: Path, env_cache: Path, tmp_path: Path) -> None:
    started = time.perf_counter()
    build = orchestrate("build", "keras3-jax", "--runtime", "docker", "--matrix", str(matrix),
                        "--cache-dir", str(env_cache))
    print(f"orchestrate build --runtime docker: {time.perf_counter() - started:.1f} s")
    assert build.returncode == 0, build.stderr
    assert "orchestrate/keras3-jax:cpu-" in build.stdout

    started = time.perf_counter()
    run = orchestrate("run", str(matrix), "--runtime", "docker", "--profile", "smoke", "--env", "keras3-jax",
                      "--workload", "mnist_mlp", "--results-dir", str(tmp_path), "--run-id", "dk",
                      "--data-dir", str(data_dir), "--cache-dir", str(env_cache))
    print(f"orchestrate run --runtime docker (smoke cell): {time.perf_counter() - started:.1f} s")
    assert run.returncode == 0, run.stderr
    result = read_cell(tmp_path / "dk" / "cells" / "keras3-jax__mnist_mlp__smoke__r0.json")
    assert result.status == "ok", result.error
    assert result.environment.runtime == "docker"
    assert result.environment.image is not None and result.environment.image.startswith("orchestrate/keras3-jax:cpu-")
    assert result.environment.image.endswith(result.environment.env_hash or "?")
    # The image's stack is the one requirements/keras3-jax.txt pins, on Debian bookworm's Python 3.11.
    assert result.environment.keras_version == "3.15.1"
    assert result.environment.framework_version == "0.10.2"
    assert result.environment.packages["jax"] == "0.10.2" and result.environment.packages["keras"] == "3.15.1"
    assert result.environment.python_version.startswith("3.11.")
    assert result.model.params == 669_706
    assert result.data.source == "real" and result.data.sha256["mnist.npz"].startswith("06af5dfe")
    assert result.data.path is not None and result.data.path.startswith(str(data_dir))
    assert result.data.samples == {"train": 512, "test": 256}
    assert len(result.timings.epochs_s) == 2 and all(s > 0 for s in result.timings.epochs_s)
    assert 0.0 <= result.metrics.test["accuracy"] <= 1.0
    assert result.threads.env["OMP_NUM_THREADS"] == str(result.threads.requested)
    # The monitor followed the container's processes from the host (and said "no GPU": none here).
    assert result.monitor is not None and result.monitor["samples"] > 10
    assert result.monitor["cpu"]["peak_rss_mb"] > 150 and result.monitor["gpu_note"].startswith("no GPU")
    assert (tmp_path / "dk" / "cells" / result.monitor["series_file"]).is_file()
    logs = tmp_path / "dk" / "logs"
    assert (logs / "keras3-jax__mnist_mlp__smoke__r0.events.jsonl").is_file()
    summary = json.loads((tmp_path / "dk" / "summary.json").read_text())
    assert [c["cell_id"] for c in summary["cells"]] == [result.cell_id]

    # Unchanged: the image is reused by its content-hash tag, at once.
    started = time.perf_counter()
    again = orchestrate("build", "keras3-jax", "--runtime", "docker", "--matrix", str(matrix),
                        "--cache-dir", str(env_cache))
    elapsed = time.perf_counter() - started
    assert again.returncode == 0 and "reused" in again.stdout
    assert result.environment.image in again.stdout
    assert elapsed < 20, f"reusing the image took {elapsed:.1f} s"


def test_cell_past_its_timeout_is_stopped_and_recorded(matrix: Path, data_dir: Path, env_cache: Path,
                                                      tmp_path: Path) -> None:
    import docker

    run = orchestrate("run", str(matrix), "--runtime", "docker", "--profile", "smoke", "--env", "keras3-jax",
                      "--workload", "mnist_mlp", "--results-dir", str(tmp_path), "--run-id", "late",
                      "--data-dir", str(data_dir), "--cache-dir", str(env_cache), "--timeout", "2")
    assert run.returncode == 1
    result = read_cell(tmp_path / "late" / "cells" / "keras3-jax__mnist_mlp__smoke__r0.json")
    assert result.status == "timeout" and "timeout of 2 s" in (result.reason or "")
    assert result.environment.runtime == "docker"
    assert result.timings.process_s is not None and result.timings.process_s < 60
    left = docker.from_env().containers.list(all=True, filters={"label": "org.orchestrate.run=late"})
    assert left == [], "the timed-out cell's container was not removed"


PROBE = r"""
import json, os, socket
def writable(path):
    try:
        with open(os.path.join(path, ".probe"), "w") as fh:
            fh.write("x")
        os.unlink(os.path.join(path, ".probe"))
        return True
    except OSError as exc:
        return exc.strerror
def network():
    try:
        socket.create_connection(("deb.debian.org", 80), timeout=3).close()
        return True
    except OSError as exc:
        return str(exc)
print(json.dumps({
    "workloads": writable(os.environ["PROBE_WORKLOADS"]), "data": writable(os.environ["PROBE_DATA"]),
    "logs": writable(os.environ["PROBE_LOGS"]), "image": writable("/opt/orchestrate/env"),
    "tmp": writable("/tmp"), "cache": writable("/opt/orchestrate/env/cache"),
    "interfaces": sorted(os.listdir("/sys/class/net")), "network": network(), "uid": os.getuid(),
}))
"""


def test_cell_container_is_confined(matrix: Path, data_dir: Path, env_cache: Path, tmp_path: Path) -> None:
    """The container a cell runs in: read-only workloads/data/image, writable logs only, no network."""
    import docker

    loaded = load_matrix(matrix)
    runtime = DockerRuntime(loaded, env_cache, variant="cpu")
    prepared = runtime.prepare("keras3-jax")
    cell = expand(loaded, profile="smoke", environments=["keras3-jax"], workloads=["mnist_mlp"])[0]
    run_dir = RunDir(tmp_path, "probe")
    run_dir.ensure_writable()
    ctx = RunContext(run_dir=run_dir, data_dir=data_dir)
    env_vars = container_env(prepared, cell, device=None)
    from orchestrator.core import workload_files

    env_vars.update(PROBE_WORKLOADS=str(workload_files.workloads_dir()), PROBE_DATA=str(data_dir),
                    PROBE_LOGS=str(run_dir.logs_dir))
    options = container_options(prepared, cell, ctx, None, env_vars, "docker")
    client = docker.from_env()
    container = client.containers.create(options.pop("image"), command=["python", "-c", PROBE], **options)
    try:
        container.start()
        assert container.wait(timeout=120)["StatusCode"] == 0, container.logs().decode()
        host_config = client.api.inspect_container(container.id)["HostConfig"]
        report = json.loads(container.logs(stderr=False).decode().strip().splitlines()[-1])
    finally:
        container.remove(force=True)
    assert host_config["Privileged"] is False and host_config["NetworkMode"] == "none"
    assert host_config["ReadonlyRootfs"] is True
    assert not host_config.get("DeviceRequests"), "a CPU cell asks for no GPU"
    assert report["logs"] is True and report["tmp"] is True and report["cache"] is True
    assert report["workloads"] == "Read-only file system"
    assert report["data"] == "Read-only file system"
    assert report["image"] == "Read-only file system"
    assert report["interfaces"] == ["lo"] and report["network"] is not True
    assert report["uid"] == os.getuid()


def test_doctor_sees_the_engine_and_no_gpu(matrix: Path) -> None:
    proc = orchestrate("doctor", "--matrix", str(matrix))
    assert proc.returncode == 0, proc.stderr
    assert "Docker engine: 20." in proc.stdout or "Docker engine: 2" in proc.stdout
    assert "NVIDIA container support: absent" in proc.stdout
    assert "no GPU" in proc.stdout
    assert "--runtime auto would choose: local" in proc.stdout
    assert "cpu variant" in proc.stdout


def test_user_model_file_is_mounted_into_the_container(matrix: Path, repo: Path, env_cache: Path,
                                                       tmp_path: Path) -> None:
    """One extra cell in the keras3-jax image built above: a user's model file, mounted read-only at its path."""
    model = repo / "tests" / "user_models" / "ok_model.py"
    raw = yaml.safe_load(matrix.read_text())
    raw["workloads"]["ok_model"] = {"script": str(model), "epochs": 2, "batch_size": 16}
    path = tmp_path / "matrix.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    run = orchestrate("run", str(path), "--runtime", "docker", "--profile", "smoke", "--env", "keras3-jax",
                      "--workload", "ok_model", "--results-dir", str(tmp_path), "--run-id", "dk-model",
                      "--cache-dir", str(env_cache), "--no-report")
    assert run.returncode == 0, run.stdout + run.stderr
    result = read_cell(tmp_path / "dk-model" / "cells" / "keras3-jax__ok_model__smoke__r0.json")
    assert result.status == "ok" and result.environment.runtime == "docker"
    assert result.model.params == 10 and result.data.dataset == "tiny"
    loaded = load_matrix(path)
    (cell,) = expand(loaded, profile="smoke", environments=["keras3-jax"], workloads=["ok_model"])
    prepared = DockerRuntime(loaded, env_cache, variant="cpu").prepare("keras3-jax")
    options = container_options(prepared, cell, RunContext(run_dir=RunDir(tmp_path, "x"), data_dir=None), None, {},
                                "docker", model_file=loaded.script_path("ok_model"))
    assert options["volumes"][str(model)] == {"bind": str(model), "mode": "ro"}
