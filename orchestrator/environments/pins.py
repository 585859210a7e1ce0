"""The installer pins of every pip-built environment: the pip, setuptools and wheel that go into a fresh venv
before anything else, per Python X.Y.

One table for both builds: the local runtime's venvs (orchestrator/environments/venv.py) and the Docker images
(orchestrator/environments/images.py passes them to docker/Dockerfile as PIP_SPEC). Both install them the same way,
`python -m pip install --upgrade PINS...`, so a green local build vouches for the image's installer too.
"""

from __future__ import annotations

# Newer pips refuse these interpreters, and newer setuptools/wheel need newer Pythons: the last releases
# that support each old interpreter. pip itself must be upgraded: Python 3.6's bundled pip 18.1 cannot
# install manylinux2010 wheels such as tensorflow 1.15.5.
_PINNED: dict[str, tuple[str, ...]] = {
    "3.6": ("pip<22", "setuptools<60", "wheel<0.38"),
    "3.7": ("pip<24.1", "setuptools<68.1", "wheel<0.42.1"),
}

# Every other interpreter: the newest releases.
UNPINNED: tuple[str, ...] = ("pip", "setuptools", "wheel")

# How both builds apply them (pip's arguments before the pins).
INSTALL_ARGS: tuple[str, ...] = ("install", "--upgrade")


def installer_pins(python: str) -> tuple[str, ...]:
    """The pip/setuptools/wheel requirements installed into a fresh venv of Python `python` ("3.6", "3.11")."""
    return _PINNED.get(python, UNPINNED)


def pinned_versions() -> tuple[str, ...]:
    """The Python versions with pins of their own (older interpreters that newer installers refuse)."""
    return tuple(sorted(_PINNED))
