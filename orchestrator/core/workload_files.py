"""Where the project's own files live: the default `matrix.yaml`, `requirements/`, the shared workload scripts
(`workloads/`), the Dockerfiles (`docker/`) and `examples/`.

In a checkout they are the checkout's own folders, beside the package. In a wheel they are bundled inside it as
`orchestrator/_project/` with the checkout's layout (`_project/matrix.yaml`, `_project/requirements/*.txt`, ...), so
the matrix's relative `requirements:` paths resolve there as they do in a clone. The checkout wins where both exist.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent  # orchestrator/
_CHECKOUT = _PACKAGE.parent
_BUNDLED = _PACKAGE / "_project"  # what pyproject.toml's [tool.hatch...force-include] puts into the wheel

# The matrix `orchestrate run`, `list`, `build` and `doctor` read when none is named.
DEFAULT_MATRIX = "matrix.yaml"


def _is_project(folder: Path) -> bool:
    return (folder / DEFAULT_MATRIX).is_file() and (folder / "workloads" / "harness.py").is_file()


def installed_project_dir() -> Path | None:
    """The project files bundled in an installed wheel (`orchestrator/_project/`); None when running from a
    checkout (an editable install included), whose own folders are used instead."""
    if _is_project(_CHECKOUT):
        return None
    return _BUNDLED if _is_project(_BUNDLED) else None


def project_dir() -> Path:
    """The folder holding `matrix.yaml`, `requirements/`, `workloads/`, `docker/` and `examples/`: the checkout,
    else the copy bundled in the wheel."""
    if _is_project(_CHECKOUT):
        return _CHECKOUT
    if _is_project(_BUNDLED):
        return _BUNDLED
    raise FileNotFoundError(f"the project's matrix.yaml and workloads/harness.py are neither beside {_PACKAGE} "
                            f"nor in {_BUNDLED}; reinstall the orchestrator")


def default_matrix() -> Path:
    """The project's own matrix (the default comparison): the checkout's matrix.yaml, else the wheel's copy."""
    return project_dir() / DEFAULT_MATRIX


def matrix_file(name: str | Path) -> Path:
    """The matrix a command reads: the file named; the default name with no such file in the current folder means
    the project's own matrix (so a clone reads its ./matrix.yaml, and an installed package works from any folder)."""
    path = Path(name)
    if str(name) == DEFAULT_MATRIX and not path.is_file():
        return default_matrix()
    return path


def is_installed_file(path: Path) -> bool:
    """Whether `path` is one of the files bundled in the installed wheel (never true in a checkout)."""
    bundled = installed_project_dir()
    return bundled is not None and path.resolve().is_relative_to(bundled.resolve())


def workloads_dir() -> Path:
    return project_dir() / "workloads"


def harness_path() -> Path:
    return workloads_dir() / "harness.py"


def docker_dir() -> Path:
    """The project's docker/ folder (Dockerfile template, base Dockerfiles)."""
    return project_dir() / "docker"


def examples_dir() -> Path:
    """The project's examples/ folder (`my_model.py`, the model `orchestrate init` writes for you to edit)."""
    return project_dir() / "examples"
