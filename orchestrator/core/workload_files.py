"""Where the shared workload scripts (and the project's Dockerfiles) live: beside the package in a checkout,
inside it in a wheel."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent  # orchestrator/


def workloads_dir() -> Path:
    for candidate in (_PACKAGE / "_workloads", _PACKAGE.parent / "workloads"):
        if (candidate / "harness.py").is_file():
            return candidate
    raise FileNotFoundError(f"workloads/harness.py not found beside {_PACKAGE}; reinstall the orchestrator")


def harness_path() -> Path:
    return workloads_dir() / "harness.py"


def docker_dir() -> Path:
    """The project's docker/ folder (Dockerfile template, base Dockerfiles)."""
    for candidate in (_PACKAGE / "_docker", _PACKAGE.parent / "docker"):
        if (candidate / "Dockerfile").is_file():
            return candidate
    raise FileNotFoundError(f"docker/Dockerfile not found beside {_PACKAGE}; reinstall the orchestrator")
