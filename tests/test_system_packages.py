"""Set-up that sets up: the system packages of the selected environments are installed before any
build where this process may install them; where it may not, `orchestrate run` / `build` stop before any build
(exit 2) with the one command to run; an environment that still cannot be prepared is reported once and its
cells are recorded failed with that reason, none started.

The machine is given through the runtime's PackageManager (its package query, privilege and installer are
plain functions), never by changing the real apt or dpkg."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.cli import main
from orchestrator.environments.system_packages import PackageManager, dpkg_missing, ensure_system_packages
from orchestrator.results.io import load_cells
from orchestrator.runtimes.local import LocalRuntime

COMMAND = "sudo sh -c 'apt-get update && apt-get install -y --no-install-recommends libopenmpi3'"


class Machine:
    """A machine where `installed` are the installed packages; it records every install asked of it."""

    def __init__(self, installed: set[str], privilege: list[str] | None, install_works: bool = True) -> None:
        self.installed = set(installed)
        self.installs: list[tuple[list[str], list[str]]] = []
        self.manager = PackageManager(query=self.query, privilege=lambda: privilege, install=self.install)
        self.install_works = install_works

    def query(self, packages: list[str]) -> list[str]:
        return [p for p in packages if p not in self.installed]

    def install(self, prefix: list[str], packages: list[str], log: Path) -> bool:
        self.installs.append((prefix, packages))
        if self.install_works:
            self.installed |= set(packages)
        return self.install_works


@pytest.mark.parametrize("command", ["run", "build"])
def test_a_missing_package_where_installing_is_not_allowed_stops_before_any_build(
        command: str, repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    machine = Machine(installed={"g++"}, privilege=None)  # libopenmpi3 absent, not root, no password-less sudo
    monkeypatch.setattr(LocalRuntime, "packages", machine.manager)
    cache = tmp_path / "cache"
    if command == "run":  # the README's first command: the default selection (cntk among its seven)
        args = ["run", str(repo / "matrix.yaml"), "--runtime", "local", "--results-dir", str(tmp_path / "results"),
                "--run-id", "fresh", "--cache-dir", str(cache)]
    else:
        args = ["build", "keras3-jax", "cntk", "--matrix", str(repo / "matrix.yaml"), "--runtime", "local",
                "--cache-dir", str(cache)]
    assert main(args) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "libopenmpi3 (needed by cntk; matrix field system_packages) not installed" in err
    assert "may not install them" in err and COMMAND in err
    assert machine.installs == []
    assert not (cache / "envs").exists()  # stopped before any build, keras3-jax's included
    assert not list(tmp_path.rglob("cells/*.json"))  # no cell started or recorded


def test_missing_packages_are_installed_with_the_privilege_there_is(tmp_path: Path) -> None:
    """Only the missing ones, once, with `sudo -n` where that is how this user may install."""
    machine = Machine(installed={"g++"}, privilege=["sudo", "-n"])
    said: list[str] = []
    needs = {"libopenmpi3": ["cntk"], "g++": ["theano"]}
    ensure_system_packages(needs, tmp_path / "apt.log", said.append, machine.manager)
    assert machine.installs == [(["sudo", "-n"], ["libopenmpi3"])]
    assert said[0].startswith("installing system package(s) libopenmpi3 (needed by cntk;")
    assert "sudo -n apt-get" in said[0]
    assert said[1] == "installed libopenmpi3"
    ensure_system_packages(needs, tmp_path / "apt.log", said.append, machine.manager)  # nothing missing now
    assert len(machine.installs) == 1 and len(said) == 2


def test_an_environment_that_still_cannot_be_prepared_is_reported_once_and_its_cells_fail_unstarted(
        repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Installing is allowed but fails (the real dpkg query: the package does not exist): the run goes on; the
    environment is reported once with its fix and both its cells are failed with that reason, neither started."""
    machine = Machine(installed=set(), privilege=[], install_works=False)
    monkeypatch.setattr(LocalRuntime, "packages", PackageManager(query=dpkg_missing, privilege=lambda: [],
                                                                 install=machine.install))
    text = (repo / "tests" / "workloads" / "matrix.yaml").read_text()
    text = text.replace("../../requirements/keras3-jax.txt", str(repo / "requirements" / "keras3-jax.txt"))
    text = text.replace("workloads_dir: .", f"workloads_dir: {repo / 'tests' / 'workloads'}")
    text = text.replace("  keras3-jax:\n", "  keras3-jax:\n    system_packages: [orchestrate-no-such-package]\n")
    (tmp_path / "matrix.yaml").write_text(text)
    rc = main(["run", str(tmp_path / "matrix.yaml"), "--profile", "pair", "--workload", "sleepy", "--runtime",
               "local", "--results-dir", str(tmp_path / "results"), "--run-id", "unfit",
               "--cache-dir", str(tmp_path / "cache"), "--no-report"])
    assert rc == 1
    assert machine.installs == [([], ["orchestrate-no-such-package"])]
    out = " ".join(capsys.readouterr().out.split())
    assert "could not install orchestrate-no-such-package" in out
    assert out.count("environment keras3-jax cannot be prepared") == 1
    assert "apt-get install -y --no-install-recommends orchestrate-no-such-package" in out  # its fix
    results = load_cells(tmp_path / "results" / "unfit").results
    assert len(results) == 2 and {r.status for r in results} == {"failed"}
    assert {r.error.type for r in results} == {"EnvironmentBuildError"}
    assert len({r.reason for r in results}) == 1 and "orchestrate-no-such-package" in results[0].reason
    assert not list((tmp_path / "results" / "unfit" / "logs").glob("*.log"))  # no cell started
    assert not (tmp_path / "cache" / "envs" / "keras3-jax" / "venv").exists()
