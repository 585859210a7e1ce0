"""The legacy build path of the local runtime: Python 3.6 environments, system packages, the CNTK MPI links,
and the `installer: pip` path (pip<22 on 3.6); the five legacy entries of matrix.yaml and their pins."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator.config.load import load_matrix
from orchestrator.cli import main
from orchestrator.environments.system_packages import PackageManager, dpkg_missing
from orchestrator.environments.venv import find_shared_library
from orchestrator.runtimes.local import LocalRuntime

LEGACY_ENVS = ["tensorflow1", "cntk", "theano", "mxnet-keras1", "mxnet-keras2"]


def orchestrate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "orchestrator.cli", *args], capture_output=True, text=True)


def test_legacy_environments_are_in_the_matrix_with_exact_pins(repo: Path) -> None:
    loaded = load_matrix(repo / "matrix.yaml")
    envs = loaded.matrix.environments
    expected = {  # environment: (backend, keras, the framework pins its requirements file must hold)
        "tensorflow1": ("tensorflow", "2.3.1", ["tensorflow==1.15.5", "keras==2.3.1"]),
        "cntk": ("cntk", "2.3.1", ["cntk==2.7.post2", "keras==2.3.1"]),
        "theano": ("theano", "2.3.1", ["theano==1.0.5", "keras==2.3.1"]),
        "mxnet-keras1": ("mxnet", "1.2.2", ["keras-mxnet==1.2.2.1", "mxnet-mkl==1.4.1"]),
        "mxnet-keras2": ("mxnet", "2.2.4.3", ["keras-mxnet==2.2.4.3", "mxnet==1.9.1"]),
    }
    for name, (backend, keras, pins) in expected.items():
        env = envs[name]
        assert (env.backend, env.keras, env.python) == (backend, keras, "3.6"), name
        lines = loaded.requirements_path(name).read_text().splitlines()
        for pin in pins:
            assert pin in lines, (name, pin)
        # every requirement of a legacy environment is pinned to one version
        reqs = [line for line in lines if line.strip() and not line.startswith("#")]
        assert all(re.fullmatch(r"[A-Za-z0-9_.-]+==[0-9][0-9A-Za-z.]*", r) for r in reqs), (name, reqs)
    assert envs["mxnet-keras1"].image_data_format == envs["mxnet-keras2"].image_data_format == "channels_first"
    assert "TF 1.3" in envs["tensorflow1"].notes and "AVX" in envs["tensorflow1"].notes
    assert envs["cntk"].system_packages == ["libopenmpi3"]


def test_openmpi_is_found_for_the_cntk_links() -> None:
    # scripts/system-deps.sh installs libopenmpi3; the CNTK post-build step links its sonames
    for soname in ("libmpi.so.40", "libmpi_cxx.so.40"):
        found = find_shared_library(soname)
        assert found is not None and found.exists(), soname
    assert find_shared_library("libno-such-library-orchestrate.so.1") is None


def test_missing_system_package_fails_before_building(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """The real dpkg query; an installer that fails (tests/test_system_packages.py gives the other machines)."""
    assert dpkg_missing(["libopenmpi3", "orchestrate-no-such-package"]) == ["orchestrate-no-such-package"]
    monkeypatch.setattr(LocalRuntime, "packages", PackageManager(privilege=lambda: [], install=lambda *args: False))
    text = (repo / "matrix.yaml").read_text().replace(
        "system_packages: [libopenmpi3]", "system_packages: [libopenmpi3, orchestrate-no-such-package]")
    (tmp_path / "matrix.yaml").write_text(text)
    (tmp_path / "requirements").symlink_to(repo / "requirements")
    assert main(["build", "cntk", "--matrix", str(tmp_path / "matrix.yaml"), "--runtime", "local"]) == 1
    out = " ".join(capsys.readouterr().out.split())
    assert "orchestrate-no-such-package" in out and "environments.cntk.system_packages" in out
    assert "apt-get install -y --no-install-recommends orchestrate-no-such-package" in out
    assert not (tmp_path / ".orchestrate" / "envs" / "cntk" / "venv").exists()


@pytest.mark.integration
def test_pip_installer_builds_a_python36_environment(repo: Path, tmp_path: Path) -> None:
    """`installer: pip` on 3.6: pip is upgraded to the last release for 3.6 (the bundled 18.1 cannot install
    manylinux2010 wheels such as tensorflow 1.15.5), pip_pre runs first, and the freeze lands in the marker."""
    (tmp_path / "requirements").mkdir()
    (tmp_path / "requirements" / "tiny.txt").write_text("keras==2.3.1\nsix==1.16.0\n")
    (tmp_path / "matrix.yaml").write_text(
        "version: 1\n"
        "environments:\n"
        "  tiny36:\n"
        "    backend: theano\n"
        '    keras: "2.3.1"\n'
        '    python: "3.6"\n'
        "    requirements: requirements/tiny.txt\n"
        "    installer: pip\n"
        "    pip_pre: [theano==1.0.5, numpy==1.19.5, scipy==1.5.4, setuptools==59.6.0]\n"
        "workloads:\n"
        "  mnist_mlp: {dataset: mnist, epochs: 1, batch_size: 128}\n"
        "profiles:\n"
        "  smoke: {epochs: 1}\n"
        "default: {profile: smoke}\n"
    )
    proc = orchestrate("build", "tiny36", "--matrix", str(tmp_path / "matrix.yaml"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    env_dir = tmp_path / ".orchestrate" / "envs" / "tiny36"
    log = (env_dir / "build.log").read_text()
    assert "-m venv" in log and "--upgrade pip<22 setuptools<60 wheel<0.38" in log
    marker = json.loads((env_dir / "ready.json").read_text())
    assert marker["python_version"].startswith("3.6.")
    assert marker["packages"]["pip"] == "21.3.1"
    assert marker["packages"]["six"] == "1.16.0" and marker["packages"]["theano"] == "1.0.5"
