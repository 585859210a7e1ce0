"""Find a Python interpreter of a given MAJOR.MINOR version.

Search order: an explicit path from the matrix, `$PYENV_ROOT/versions/X.Y*`, `pythonX.Y` on PATH,
then interpreters managed by uv (`uv python find`). Each candidate is asked for its own version.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from orchestrator.core.errors import InterpreterNotFound


def find_interpreter(version: str, explicit: str | None = None) -> Path:
    """Return the path of an interpreter reporting `version`, or raise InterpreterNotFound."""
    if explicit:
        path = Path(os.path.expanduser(explicit))
        found = interpreter_version(path)
        if found != version:
            what = f"reports Python {found}" if found else "does not run"
            raise InterpreterNotFound(
                f"interpreter {path} (set in the matrix) {what}; the environment needs Python {version}"
            )
        return path
    for candidate in _candidates(version):
        if interpreter_version(candidate) == version:
            return candidate
    raise InterpreterNotFound(
        f"no Python {version} interpreter found (looked in $PYENV_ROOT/versions, python{version} on PATH, "
        f"and uv-managed interpreters). Install one with `pyenv install {version}` or "
        f"`uv python install {version}`, or set `interpreter:` for this environment in the matrix."
    )


def _candidates(version: str) -> list[Path]:
    found: list[Path] = []
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    versions = pyenv_root / "versions"
    if versions.is_dir():
        for d in sorted(versions.glob(f"{version}*"), reverse=True):
            if d.name == version or d.name.startswith(version + "."):
                found.append(d / "bin" / "python")
    on_path = shutil.which(f"python{version}")
    if on_path:
        found.append(Path(on_path))
    uv_found = _uv_find(version)
    if uv_found:
        found.append(uv_found)
    return found


def _uv_find(version: str) -> Path | None:
    uv = shutil.which("uv")
    if not uv:
        return None
    try:
        out = subprocess.run(
            [uv, "python", "find", "--no-python-downloads", version],
            capture_output=True, text=True, timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = out.stdout.strip()
    return Path(text) if out.returncode == 0 and text else None


def interpreter_version(path: Path) -> str | None:
    """MAJOR.MINOR reported by the interpreter itself, or None if it does not run."""
    try:
        out = subprocess.run(
            [str(path), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True, text=True, timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None
