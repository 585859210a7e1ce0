"""Building one virtualenv per environment under the project's cache directory (the local runtime's environments).

A venv is reused only when its ready marker carries the current content hash and its interpreter runs;
otherwise it is rebuilt from scratch. The marker is written last, so a failed build never looks ready.
Each step of a build (venv, installer pins, requirements, post-build hooks, import check) is logged to the
environment's build log; a step that fails removes the half-built venv.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path
from typing import IO, Callable

from orchestrator.config.load import LoadedMatrix
from orchestrator.config.schema import Environment
from orchestrator.core.clock import now_iso
from orchestrator.core.errors import EnvironmentBuildError, NetworkBuildError, looks_like_network_error
from orchestrator.core.files import write_json_atomic
from orchestrator.core.processes import dies_with_parent, tail
from orchestrator.environments.interpreters import find_interpreter
from orchestrator.environments.layout import EnvPaths, cell_process_env, env_hash, env_paths, write_private_config
from orchestrator.environments.locks import claim_build, describe, env_lock, release_build
from orchestrator.environments.pins import INSTALL_ARGS, installer_pins
from orchestrator.environments.prepared import Prepared
from orchestrator.environments.system_packages import Query, check_system_packages, dpkg_missing

Log = Callable[[str], None]

LOCAL_WHEELS = Path("/opt/wheels")  # wheels uv may install from besides the index, where the folder exists

NATIVE_MODULES = {"torch": "torch", "jax": "flax", "tensorflow": "tensorflow"}  # checked after a native build

# CNTK 2.7 was linked against OpenMPI 1.10; the system's OpenMPI 4 (Debian's libopenmpi3) serves the
# same calls. Links with the old names go into the environment's private lib/ folder (on LD_LIBRARY_PATH
# for every cell), never into system paths.
CNTK_MPI_LINKS = {"libmpi.so.12": "libmpi.so.40", "libmpi_cxx.so.1": "libmpi_cxx.so.40"}

_LIBRARY_DIRS = ("/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib",
                 "/usr/lib/aarch64-linux-gnu")


def uv_binary() -> str | None:
    """The uv executable: the one installed with the orchestrator, else one on PATH."""
    try:
        from uv import find_uv_bin

        return find_uv_bin()
    except (ImportError, FileNotFoundError):
        return shutil.which("uv")


def prepare_venv(loaded: LoadedMatrix, env_name: str, cache: Path, log: Log, force: bool = False,
                 query: Query = dpkg_missing) -> Prepared:
    """The environment's venv: reused when its content hash matches (unless `force`), else built from scratch.

    One build at a time per environment (a lock in its cache folder); those who waited reuse what it built.
    `query` tells which system packages are missing (checked before a build).
    """
    env = loaded.matrix.environments[env_name]
    paths = env_paths(cache, env_name)
    with env_lock(paths, env_name, log):
        return _prepare_locked(loaded, env_name, env, paths, log, force, query)


def _prepare_locked(loaded: LoadedMatrix, env_name: str, env: Environment, paths: EnvPaths, log: Log,
                    force: bool, query: Query) -> Prepared:
    interpreter = find_interpreter(env.python, env.interpreter)
    full_version = full_python_version(interpreter)
    requirements = loaded.requirements_path(env_name)
    digest = env_hash(env_name, env, requirements.read_text(), f"{interpreter}|{full_version}")
    if not force:
        reused = _reuse(paths, env_name, env, digest)
        if reused:
            log(f"{env_name}: up to date ({digest}), reused")
            return reused
    check_system_packages(env_name, env, query)
    left = claim_build(paths)
    if left is not None:
        log(f"{env_name}: an earlier build ({describe(left)}) did not finish; removing it, building again")
    log(f"{env_name}: building Python {full_version} environment ({digest}); log: {paths.build_log}")
    start = time.perf_counter()
    try:
        packages = build_venv(env_name, env, paths, interpreter, requirements)
    except EnvironmentBuildError:
        release_build(paths)  # failed cleanly (venv removed): nothing half-built is left
        raise
    marker = {
        "env_hash": digest, "name": env_name, "interpreter": str(interpreter),
        "python_version": full_version, "packages": packages, "built_at": now_iso(),
        "build_s": round(time.perf_counter() - start, 1),
    }
    write_json_atomic(paths.marker, marker)
    release_build(paths)
    log(f"{env_name}: built in {marker['build_s']} s")
    return Prepared(env_name, env, digest, paths, full_version, packages)


def build_venv(env_name: str, env: Environment, paths: EnvPaths, interpreter: Path,
               requirements: Path) -> dict[str, str]:
    """Build the venv from scratch and return its packages (name: version); a failed build leaves no venv."""
    paths.marker.unlink(missing_ok=True)
    shutil.rmtree(paths.venv, ignore_errors=True)
    paths.root.mkdir(parents=True, exist_ok=True)
    try:
        with open(paths.build_log, "w") as log:
            builder = Builder(log, env, paths, interpreter)
            builder.create_venv()
            builder.install_requirements(requirements)
            write_private_config(paths, env)
            run_post_build(env_name, env, paths, builder)
            builder.check_import()
            return builder.freeze()
    except EnvironmentBuildError:
        shutil.rmtree(paths.venv, ignore_errors=True)
        raise


def _reuse(paths: EnvPaths, env_name: str, env: Environment, digest: str) -> Prepared | None:
    try:
        marker = json.loads(paths.marker.read_text())
    except (OSError, ValueError):
        return None
    if marker.get("env_hash") != digest or not paths.python.exists():
        return None
    write_private_config(paths, env)
    return Prepared(env_name, env, digest, paths, marker.get("python_version", env.python),
                    marker.get("packages", {}), reused=True)


def full_python_version(interpreter: Path) -> str:
    """The interpreter's full version ("3.6.15"), as part of the environment's identity."""
    out = subprocess.run([str(interpreter), "-c", "import platform; print(platform.python_version())"],
                         capture_output=True, text=True, timeout=30)
    return out.stdout.strip()


class Builder:
    """The steps of building one venv, each logged to the environment's build log."""

    def __init__(self, log: IO[str], env: Environment, paths: EnvPaths, interpreter: Path) -> None:
        self.log = log
        self.env = env
        self.paths = paths
        self.interpreter = interpreter
        self.uv = uv_binary() if env.installer == "uv" else None

    def run(self, args: list[str], what: str, env: dict[str, str] | None = None) -> None:
        self.log.write(f"$ {' '.join(args)}\n")
        self.log.flush()
        proc = subprocess.run(args, stdout=self.log, stderr=subprocess.STDOUT, env=env,
                              preexec_fn=dies_with_parent())  # a builder killed mid-build leaves no installer
        if proc.returncode != 0:
            self.log.flush()
            last = tail(self.paths.build_log, 2500)
            error = NetworkBuildError if looks_like_network_error(last) else EnvironmentBuildError
            raise error(
                f"environment {self.paths.root.name}: {what} failed (exit {proc.returncode}); "
                f"build log: {self.paths.build_log}\n--- last lines ---\n{last}"
            )

    def create_venv(self) -> None:
        """The empty venv; with pip as the installer, its pip/setuptools/wheel set to the pins of its Python."""
        if self.uv:
            self.run([self.uv, "venv", "--quiet", "--python", str(self.interpreter), str(self.paths.venv)],
                     "creating the virtualenv with uv")
            return
        self.run([str(self.interpreter), "-m", "venv", str(self.paths.venv)], "creating the virtualenv")
        install, *flags = INSTALL_ARGS  # `pip install --quiet --upgrade <pins>`, as the build log has always read
        self.run([str(self.paths.python), "-m", "pip", install, "--quiet", *flags, *installer_pins(self.env.python)],
                 "upgrading pip")

    def pip_install(self, args: list[str], what: str) -> None:
        if self.uv:
            extra = ["--find-links", str(LOCAL_WHEELS)] if LOCAL_WHEELS.is_dir() else []
            self.run([self.uv, "pip", "install", "--python", str(self.paths.python), *extra, *args], what)
        else:
            self.run([str(self.paths.python), "-m", "pip", "install", "--no-input", *args], what)

    def install_requirements(self, requirements: Path) -> None:
        if self.env.pip_pre:
            self.pip_install(list(self.env.pip_pre), "installing the pre-requirements")
        self.pip_install(["-r", str(requirements)], f"installing {requirements.name}")
        if self.env.no_deps:
            self.pip_install(["--no-deps", *self.env.no_deps], "installing the no_deps packages without dependencies")

    def check_import(self) -> None:
        """Import Keras as a cell would, and check it picked the environment's backend (Keras 1 reads keras.json)."""
        env = cell_process_env(self.paths, self.env, threads=1, seed=0)
        if self.env.api == "native":  # no Keras: the framework itself must import
            module = NATIVE_MODULES[self.env.backend]
            self.run([str(self.paths.python), "-c", f"import {module}; print({module}.__version__)"],
                     f"importing {module} (native {self.env.backend})", env=env)
            return
        code = ("import keras, sys; b = keras.backend.backend(); print('keras', keras.__version__, b, sys.version); "
                f"sys.exit(0 if b == {self.env.backend!r} else 'keras loaded backend %r, expected "
                f"{self.env.backend}' % b)")
        self.run([str(self.paths.python), "-c", code], f"importing keras with the {self.env.backend} backend",
                 env=env)

    def freeze(self) -> dict[str, str]:
        if self.uv:
            args = [self.uv, "pip", "freeze", "--python", str(self.paths.python)]
        else:
            args = [str(self.paths.python), "-m", "pip", "freeze", "--all"]  # pip/setuptools too, as uv lists them
        out = subprocess.run(args, capture_output=True, text=True)
        return parse_freeze(out.stdout)


def parse_freeze(text: str) -> dict[str, str]:
    """`pip freeze` output as {lowercase name: version, or where a direct reference points}."""
    packages = {}
    for line in text.splitlines():
        if "==" in line:
            name, _, version = line.partition("==")
            packages[name.strip().lower()] = version.strip()
        elif " @ " in line:
            name, _, where = line.partition(" @ ")
            packages[name.strip().lower()] = where.strip()
    return packages


def run_post_build(env_name: str, env: Environment, paths: EnvPaths, builder: Builder) -> None:
    """Backend-specific steps after the requirements are installed, before the import check."""
    shutil.rmtree(paths.lib, ignore_errors=True)
    hook = _POST_BUILD.get(env.backend)
    if hook is not None:
        hook(env_name, paths, builder)


def _cntk_mpi_links(env_name: str, paths: EnvPaths, builder: Builder) -> None:
    paths.lib.mkdir(parents=True, exist_ok=True)
    for old_name, new_name in CNTK_MPI_LINKS.items():
        target = find_shared_library(new_name)
        if target is None:
            raise EnvironmentBuildError(
                f"environment {env_name}: CNTK needs OpenMPI ({new_name} not found by ldconfig or in the usual "
                f"library folders); install the system package libopenmpi3 (`sudo bash scripts/system-deps.sh`)"
            )
        link = paths.lib / old_name
        link.symlink_to(target)
        builder.log.write(f"linked {link} -> {target}\n")


_POST_BUILD: dict[str, Callable[[str, EnvPaths, Builder], None]] = {"cntk": _cntk_mpi_links}


def find_shared_library(soname: str) -> Path | None:
    """Where the dynamic linker would find `soname` (ldconfig's cache, then the usual folders)."""
    try:
        out = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        out = ""
    for line in out.splitlines():
        name, _, where = line.strip().partition(" => ")
        if name.split(" ")[0] == soname and Path(where).exists():
            return Path(where)
    for folder in _LIBRARY_DIRS:
        candidate = Path(folder) / soname
        if candidate.exists():
            return candidate
    return None
