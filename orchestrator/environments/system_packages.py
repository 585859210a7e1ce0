"""The system packages (Debian/Ubuntu) the selected environments list in the matrix (`system_packages`):
found missing before any build and installed where this process may (as root, or with `sudo -n`); where it may
not, the command stops before any build and prints the one command to run.

The package query, the privilege and the installer are plain functions held by a `PackageManager`, so a test
can give a machine where a package is missing and installing is not allowed without touching the real apt.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from orchestrator.core.errors import ConfigError, EnvironmentBuildError
from orchestrator.config.schema import Environment
from orchestrator.config.load import LoadedMatrix

Query = Callable[[list[str]], "list[str] | None"]          # the packages not installed; None: cannot tell here
Privilege = Callable[[], "list[str] | None"]               # the prefix apt-get runs with; None: not allowed
Install = Callable[[list[str], list[str], Path], bool]     # (prefix, packages, log) -> installed?
Log = Callable[[str], None]

_APT = ["apt-get", "-o", "DPkg::Lock::Timeout=600"]  # wait for the dpkg lock when another apt runs


def dpkg_missing(packages: list[str]) -> list[str] | None:
    """The packages not installed (Debian/Ubuntu, via dpkg-query); None where dpkg is absent."""
    dpkg_query = shutil.which("dpkg-query")
    if dpkg_query is None:
        return None
    missing = []
    for package in packages:
        proc = subprocess.run([dpkg_query, "-W", "-f", "${Status}", package], capture_output=True, text=True)
        if proc.returncode != 0 or "install ok installed" not in proc.stdout:
            missing.append(package)
    return missing


def apt_privilege() -> list[str] | None:
    """How this process may run apt-get: directly as root, with `sudo -n` where sudo asks no password; else None."""
    if shutil.which("apt-get") is None:
        return None
    if os.geteuid() == 0:
        return []
    sudo = shutil.which("sudo")
    if sudo is None:
        return None
    try:
        allowed = subprocess.run([sudo, "-n", "true"], capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return None
    return [sudo, "-n"] if allowed else None


def apt_install(prefix: list[str], packages: list[str], log_path: Path) -> bool:
    """apt-get install (non-interactive, no recommends); on failure the package lists are updated and it is tried
    once more. Output goes to `log_path`."""
    run = [*prefix, "env", "DEBIAN_FRONTEND=noninteractive", *_APT]
    install = [*run, "install", "-y", "-q", "--no-install-recommends", *packages]
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "a") as log:
        for args in (install, [*run, "update", "-q"], install):
            log.write(f"$ {shlex.join(args)}\n")
            log.flush()
            ok = subprocess.run(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL).returncode == 0
            if ok and args is install:
                return True
    return False


def install_command(packages: list[str]) -> str:
    """The one command a person with sudo runs to install `packages`."""
    names = " ".join(shlex.quote(p) for p in packages)
    return f"sudo sh -c 'apt-get update && apt-get install -y --no-install-recommends {names}'"


@dataclass(frozen=True)
class PackageManager:
    """How system packages are queried and installed on this machine (dpkg and apt-get by default)."""

    query: Query = dpkg_missing
    privilege: Privilege = apt_privilege
    install: Install = apt_install


def needed(loaded: LoadedMatrix, env_names: list[str]) -> dict[str, list[str]]:
    """Package -> the selected environments that list it (environments that are built, not existing ones)."""
    needs: dict[str, list[str]] = {}
    for name in env_names:
        env = loaded.matrix.environments[name]
        if env.build == "none":
            continue
        for package in env.system_packages:
            needs.setdefault(package, []).append(name)
    return needs


def ensure_system_packages(needs: dict[str, list[str]], log_path: Path, log: Log,
                           manager: PackageManager = PackageManager()) -> None:
    """Install the missing packages of `needs`, or raise ConfigError with the command to run when not allowed.

    A failed installation is logged and left to the environments' builds, which then fail with the fix
    (`check_system_packages`); the other environments go on.
    """
    missing = manager.query(sorted(needs)) if needs else []
    if not missing:  # none missing, or a machine without dpkg (each build checks what it needs itself)
        return
    users = sorted({env for package in missing for env in needs[package]})
    what = f"system package(s) {', '.join(missing)} (needed by {', '.join(users)}; matrix field system_packages)"
    prefix = manager.privilege()
    if prefix is None:
        raise ConfigError(f"{what} not installed, and this user may not install them (not root, and `sudo -n` is "
                          f"not allowed). Run this once, then the same command again:\n  {install_command(missing)}")
    how = "apt-get" if not prefix else "sudo -n apt-get"
    log(f"installing {what} with {how}; log: {log_path}")
    if manager.install(prefix, missing, log_path) and not manager.query(missing):
        log(f"installed {', '.join(missing)}")
    else:
        log(f"could not install {', '.join(missing)} (log: {log_path}); {', '.join(users)} will fail to build")


def check_system_packages(env_name: str, env: Environment, query: Query = dpkg_missing) -> None:
    """Fail a build before it starts when a system package the environment lists is absent, with the fix."""
    if not env.system_packages:
        return
    missing = query(env.system_packages)
    if missing:
        raise EnvironmentBuildError(
            f"environment {env_name} needs the system package(s) {', '.join(missing)} (matrix field "
            f"environments.{env_name}.system_packages), not installed; install them with:\n  "
            f"{install_command(missing)}"
        )
