"""Existing environments (`build: none`): a real interpreter used as it is, never changed.

The keras3-jax virtualenv the suite builds serves as an interpreter "already set up" (as a cloud image's
Python would be); a plain venv holding only JAX plays one that lacks Keras, which then comes from a folder of
real wheels into the private overlay.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from orchestrator.cli import main
from orchestrator.core.errors import EnvironmentBuildError
from orchestrator.environments.existing import prepare_existing
from orchestrator.environments.interpreters import find_interpreter
from orchestrator.config.load import load_matrix
from orchestrator.config.schema import only_environments
from orchestrator.results.io import read_cell
from orchestrator.environments.venv import uv_binary
from orchestrator.runtimes.local import LocalRuntime

pytestmark = pytest.mark.integration

KERAS = "3.15.1"


def matrix_with(repo: Path, folder: Path, environments: dict[str, dict]) -> Path:
    """The project's matrix with only the given environments (existing ones need no requirements file)."""
    raw = yaml.safe_load((repo / "matrix.yaml").read_text())
    raw = only_environments(raw, environments)  # the modern models' workloads name environments not among these
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "matrix.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def site_snapshot(python: Path) -> dict[str, float]:
    """Every file under the interpreter's site-packages with its modification time."""
    out = subprocess.run([str(python), "-c", "import site, json; print(json.dumps(site.getsitepackages()))"],
                         capture_output=True, text=True, check=True)
    snapshot = {}
    for folder in json.loads(out.stdout):
        for path in Path(folder).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                snapshot[str(path)] = path.stat().st_mtime
    return snapshot


@pytest.fixture(scope="session")
def jax_interpreter(repo: Path, env_cache: Path) -> Path:
    """The suite's keras3-jax virtualenv (built here if no other test has built it yet)."""
    runtime = LocalRuntime(load_matrix(repo / "matrix.yaml"), env_cache)
    return runtime.prepare("keras3-jax").paths.python


@pytest.fixture(scope="session")
def jax_without_keras(env_cache: Path) -> Path:
    """A venv (with pip, like a cloud image's) holding JAX and its requirements but not Keras."""
    root = env_cache / "existing" / "jax-no-keras"
    python = root / "bin" / "python"
    if not (root / "ready").exists():
        subprocess.run([str(find_interpreter("3.11")), "-m", "venv", "--clear", str(root)], check=True)
        subprocess.run([uv_binary(), "pip", "install", "--python", str(python), "jax==0.10.2", "jaxlib==0.10.2",
                        "numpy<2.5"], check=True)
        (root / "ready").write_text("ok")
    return python


@pytest.fixture(scope="session")
def keras_wheels(env_cache: Path) -> Path:
    """Real wheels: Keras and its requirements, from the package registry once per cache."""
    folder = env_cache / "existing" / f"wheels-keras-{KERAS}"
    if not list(folder.glob("keras-*.whl")):
        python = find_interpreter("3.11")
        subprocess.run([str(python), "-m", "pip", "download", "--quiet", "--only-binary=:all:", "--dest", str(folder),
                        f"keras=={KERAS}"], check=True)
    return folder


def test_a_missing_backend_or_keras_is_refused_with_what_to_do(
        repo: Path, data_dir: Path, jax_without_keras: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    matrix = matrix_with(repo, tmp_path, {
        "torch-missing": {"backend": "torch", "keras": KERAS, "python": str(jax_without_keras), "build": "none"},
        "keras-missing": {"backend": "jax", "keras": KERAS, "python": str(jax_without_keras), "build": "none"},
    })
    loaded = load_matrix(matrix)
    with pytest.raises(EnvironmentBuildError, match="the backend 'torch' does not import in .*No module named 'torch'"):
        prepare_existing(loaded, "torch-missing", tmp_path / "cache", print)
    with pytest.raises(EnvironmentBuildError, match=r"keras is not installed .* --wheels DIR or "
                                                    r"environments.keras-missing.wheels"):
        prepare_existing(loaded, "keras-missing", tmp_path / "cache", print)
    # Through the CLI: the environment's cells fail with that message; the run says so (exit 1).
    rc = main(["run", str(matrix), "--profile", "smoke", "--workload", "mnist_mlp", "--env", "keras-missing",
               "--runtime", "local", "--results-dir", str(tmp_path / "results"), "--run-id", "x",
               "--data-dir", str(data_dir), "--cache-dir", str(tmp_path / "cache")])
    result = read_cell(tmp_path / "results" / "x" / "cells" / "keras-missing__mnist_mlp__smoke__r0.json")
    assert rc == 1 and result.status == "failed" and "keras is not installed" in result.reason
    assert main(["run", str(matrix), "--wheels", str(tmp_path / "nope")]) == 2
    assert "--wheels" in capsys.readouterr().err


@pytest.fixture(scope="session")
def torch_interpreter(repo: Path, env_cache: Path) -> Path:
    """The suite's keras3-torch virtualenv (built here if no other test has built it yet)."""
    runtime = LocalRuntime(load_matrix(repo / "matrix.yaml"), env_cache)
    return runtime.prepare("keras3-torch").paths.python


def test_gpu_check_dry_run_on_cpu_devices(repo: Path, data_dir: Path, torch_interpreter: Path,
                                          jax_without_keras: Path, keras_wheels: Path, tmp_path: Path) -> None:
    """scripts/gpu-check-offline.sh as on a GPU machine with no network, on CPU devices: keras3-torch on an
    interpreter that holds Keras, keras3-jax on one that lacks it (Keras from the wheel folder's overlay)."""
    before = {python: site_snapshot(python) for python in (torch_interpreter, jax_without_keras)}
    proc = subprocess.run(
        ["bash", str(repo / "scripts" / "gpu-check-offline.sh"), "--dry-run", "--python", sys.executable,
         "--torch-python", str(torch_interpreter), "--jax-python", str(jax_without_keras),
         "--wheels", str(keras_wheels), "--data-dir", str(data_dir), "--out", str(tmp_path / "check"),
         "--work", str(tmp_path / "work"),
         "--price-per-hour", "0.9"],
        capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    assert "gpu-check-offline: OK (cpu" in proc.stdout
    table = (tmp_path / "check" / "gpu-results.md").read_text()
    rows = [line for line in table.splitlines() if line.startswith("| keras3-")]
    assert len(rows) == 2 and all("| mnist_mlp | ok | cpu; framework: cpu (" in row for row in rows), table
    assert "no GPU" in table and "CHECK FAILED" not in table
    assert (tmp_path / "check" / "dry-run" / "report" / "report.html").is_file()
    cells, envs = tmp_path / "check" / "dry-run" / "cells", tmp_path / "work" / "cache" / "envs"
    torch = read_cell(cells / "keras3-torch__mnist_mlp__gpu-dry__r0.json")
    jax = read_cell(cells / "keras3-jax__mnist_mlp__gpu-dry__r0.json")
    # Where the frameworks say the models ran (the harness's device record): the CPU, checked first in seconds.
    assert torch.host.framework_device["kind"] == "cpu" and torch.host.framework_device["weight_device"] == "cpu"
    assert torch.host.framework_device["cuda_available"] is False
    assert jax.host.framework_device["kind"] == "cpu" and jax.host.framework_device["default_device"] == "cpu"
    devices = json.loads((tmp_path / "check" / "devices.json").read_text())
    assert devices["want"] == "cpu" and devices["torch"]["kind"] == devices["jax"]["kind"] == "cpu"
    assert "gpu-check-offline: OK (cpu" in (tmp_path / "check" / "gpu-check.log").read_text()
    # Nothing was installed or changed in either interpreter; no virtualenv was made.
    assert {python: site_snapshot(python) for python in before} == before
    assert not (envs / "keras3-torch" / "venv").exists() and not (envs / "keras3-jax" / "venv").exists()
    # keras3-torch: the interpreter's own Keras; its packages and framework version recorded.
    record = json.loads((envs / "keras3-torch" / "existing.json").read_text())
    assert record["interpreter"] == str(torch_interpreter) and record["overlay"] is None
    assert record["keras"] == KERAS and record["backend_version"] == "2.13.0+cpu"
    assert torch.environment.packages["torch"] == "2.13.0+cpu" and torch.environment.framework_version == "2.13.0+cpu"
    # keras3-jax: Keras from the wheel folder, in the environment's private overlay, with only what the
    # interpreter lacks (its numpy and jax are not shadowed).
    overlay = envs / "keras3-jax" / "overlay"
    in_overlay = {p.name.split("-")[0].lower() for p in overlay.glob("*.dist-info")}
    assert {"keras", "namex", "optree"} <= in_overlay
    assert not {"numpy", "jax", "jaxlib", "ml_dtypes"} & in_overlay
    assert jax.environment.packages["keras"] == KERAS and jax.environment.packages["jax"] == "0.10.2"
    # A second prepare reuses the overlay (same interpreter, wheels and Keras) and gives the same hash.
    loaded = load_matrix(tmp_path / "check" / "matrix.yaml").model_copy(update={"wheels": keras_wheels})
    said: list[str] = []
    again = prepare_existing(loaded, "keras3-jax", tmp_path / "work" / "cache", said.append)
    assert again.paths.overlay == overlay and again.paths.python == jax_without_keras
    assert again.env_hash == jax.environment.env_hash and not any("installing" in line for line in said)
    # Without the wheel folder, the overlay made from it still serves (nothing to install).
    said.clear()
    plain = prepare_existing(load_matrix(tmp_path / "check" / "matrix.yaml"), "keras3-jax",
                             tmp_path / "work" / "cache", said.append)
    assert plain.paths.overlay == overlay and any("the overlay made earlier" in line for line in said)
    # Energy (no GPU: said so; RAPL read or its absence explained), cost from the price, epochs' wall times.
    for result in (torch, jax):
        assert result.energy["gpu"]["available"] is False and "no GPU" in result.energy["gpu"]["reason"]
        assert result.energy["cpu"]["available"] or result.energy["cpu"]["reason"]
        assert result.cost["per_hour"] == 0.9 and result.cost["source"] == "--price-per-hour"
        assert result.cost["per_epoch"] == pytest.approx(result.timings.steady_state_s * 0.9 / 3600, rel=1e-3)
        assert result.cost["per_run"] == pytest.approx(result.timings.process_s * 0.9 / 3600, rel=1e-3)
        assert all(e.time is not None for e in result.metrics.per_epoch)
