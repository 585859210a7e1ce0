"""One installer-pins table: a venv built by the local runtime (with pip as its installer) and the Docker image of
the same environment get the same pip, setuptools and wheel, installed the same way, for every Python version.

Read from what each build would run, not from the table: the local builder's commands (recorded, nothing is
installed) and the image recipe's PIP_SPEC build argument as docker/Dockerfile applies it.
"""

from __future__ import annotations

import io
import shlex
from pathlib import Path

import pytest

from orchestrator.config.load import LoadedMatrix, load_matrix
from orchestrator.environments.images import make_recipe
from orchestrator.environments.layout import EnvPaths
from orchestrator.environments.pins import installer_pins, pinned_versions
from orchestrator.environments.venv import Builder

ENV = "tensorflow1"  # any environment of matrix.yaml: only its Python version is changed below

# Options of `pip install` that change only what it prints.
COSMETIC = {"--quiet", "-q", "--no-input"}

# The interpreters of the old Keras stacks, today's and a newer one.
VERSIONS = ("3.6", "3.7", "3.10", "3.11", "3.12")


def all_versions(loaded: LoadedMatrix) -> list[str]:
    """Every Python version either build knows: the pinned ones, the matrix's own and a few more."""
    return sorted({*VERSIONS, *pinned_versions(), *(e.python for e in loaded.matrix.environments.values())})


class RecordingBuilder(Builder):
    """The local builder with its commands recorded instead of run."""

    commands: list[list[str]]

    def run(self, args: list[str], what: str, env: dict[str, str] | None = None) -> None:
        self.commands.append(list(args))


def with_python(loaded: LoadedMatrix, python: str) -> LoadedMatrix:
    env = loaded.matrix.environments[ENV]
    loaded.matrix.environments[ENV] = env.model_copy(update={"python": python, "installer": "pip"})
    return loaded


def split_install(args: list[str]) -> tuple[set[str], list[str]]:
    """(the options that matter, the requirements) of a `pip install ...` argument list."""
    rest = args[args.index("install") + 1:]
    return {a for a in rest if a.startswith("-")} - COSMETIC, [a for a in rest if not a.startswith("-")]


def local_install(loaded: LoadedMatrix, python: str, tmp_path: Path) -> tuple[set[str], list[str]]:
    """What the local runtime's pip build installs into the fresh venv before the requirements."""
    env = with_python(loaded, python).matrix.environments[ENV]
    builder = RecordingBuilder(io.StringIO(), env, EnvPaths(tmp_path / python), Path("/usr/bin/python3"))
    builder.commands = []
    builder.create_venv()
    installs = [args for args in builder.commands if "pip" in args and "install" in args]
    assert len(installs) == 1, builder.commands
    return split_install(installs[0])


def image_install(loaded: LoadedMatrix, python: str) -> tuple[set[str], list[str]]:
    """What the image's Dockerfile installs into its fresh venv: PIP_SPEC, split as `read -ra` does."""
    recipe = make_recipe(with_python(loaded, python), ENV, "cpu")
    line = next(line for line in recipe.dockerfile.read_text().splitlines() if '"${pip_spec[@]}"' in line)
    command = shlex.split(line.split("; then ", 1)[1].split("; fi", 1)[0])
    assert command[:3] == ["/opt/orchestrate/env/venv/bin/python", "-m", "pip"], line
    assert command[-1] == "${pip_spec[@]}", line
    options, _ = split_install(command[:-1])
    return options, recipe.build_args["PIP_SPEC"].split()


def test_local_venv_and_image_install_the_same_pins_for_every_python(repo: Path, tmp_path: Path) -> None:
    versions = all_versions(load_matrix(repo / "matrix.yaml"))
    local = {v: local_install(load_matrix(repo / "matrix.yaml"), v, tmp_path) for v in versions}
    image = {v: image_install(load_matrix(repo / "matrix.yaml"), v) for v in versions}
    assert image == local
    assert all("--upgrade" in options for options, _ in local.values())  # a bundled older pip is replaced


@pytest.mark.parametrize("python, pins", [
    ("3.6", ("pip<22", "setuptools<60", "wheel<0.38")),
    ("3.7", ("pip<24.1", "setuptools<68.1", "wheel<0.42.1")),
    ("3.11", ("pip", "setuptools", "wheel")),
])
def test_pins_are_those_proven_by_local_builds(python: str, pins: tuple[str, ...]) -> None:
    assert installer_pins(python) == pins
