"""The embedded default runtime: one virtualenv per environment under the project's cache directory.

A venv is reused only when its ready marker carries the current content hash and its interpreter runs;
otherwise it is rebuilt from scratch. The marker is written last, so a failed build never looks ready.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

from orchestrator.core import workload_files
from orchestrator.execution.process import HarnessOutcome, dies_with_parent, run_process, tail
from orchestrator.core.clock import now_iso
from orchestrator.environments.layout import (
    EnvPaths, cell_process_env, env_hash, env_paths, write_private_config,
)
from orchestrator.core.errors import EnvironmentBuildError, NetworkBuildError, looks_like_network_error
from orchestrator.environments.existing import prepare_existing
from orchestrator.environments.interpreters import find_interpreter
from orchestrator.environments.locks import claim_build, describe, env_lock, release_build
from orchestrator.environments.system_packages import (
    PackageManager, check_system_packages, ensure_system_packages, needed,
)
from orchestrator.config.cell import Cell
from orchestrator.config.schema import Environment
from orchestrator.environments.prepared import Prepared
from orchestrator.execution.context import RunContext
from orchestrator.core.files import write_json_atomic
from orchestrator.runtimes.base import HarnessLaunch, Runtime

# Newer pips refuse these interpreters, and newer setuptools/wheel need newer Pythons: the last releases
# that support each old interpreter. pip itself must be upgraded: Python 3.6's bundled pip 18.1 cannot
# install manylinux2010 wheels such as tensorflow 1.15.5.
_PIP_PINS = {
    "3.6": ["pip<22", "setuptools<60", "wheel<0.38"],
    "3.7": ["pip<24.1", "setuptools<68.1", "wheel<0.42.1"],
}
_LOCAL_WHEELS = Path("/opt/wheels")


def uv_binary() -> str | None:
    """The uv executable: the one installed with the orchestrator, else one on PATH."""
    try:
        from uv import find_uv_bin

        return find_uv_bin()
    except (ImportError, FileNotFoundError):
        return shutil.which("uv")


class LocalRuntime(Runtime):
    name = "local"
    packages = PackageManager()  # how system packages are queried and installed here (a test gives its own)

    def prepare_host(self, env_names: list[str]) -> None:
        """Install the system packages the environments list (or stop with the command to run)."""
        ensure_system_packages(needed(self.loaded, env_names), self.cache / "system-packages.log", self.log,
                               self.packages)

    def _prepare(self, env_name: str, force: bool) -> Prepared:
        env = self.loaded.matrix.environments[env_name]
        if env.build == "none":  # an interpreter already set up: checked and recorded, never built or changed
            return prepare_existing(self.loaded, env_name, self.cache, self.log)
        paths = env_paths(self.cache, env_name)
        with env_lock(paths, env_name, self.log):  # one build at a time; those who waited reuse it
            return self._prepare_locked(env_name, env, paths, force)

    def _prepare_locked(self, env_name: str, env: Environment, paths: EnvPaths, force: bool) -> Prepared:
        interpreter = find_interpreter(env.python, env.interpreter)
        full_version = _full_version(interpreter)
        requirements = self.loaded.requirements_path(env_name).read_text()
        digest = env_hash(env_name, env, requirements, f"{interpreter}|{full_version}")
        if not force:
            reused = _reuse(paths, env_name, env, digest)
            if reused:
                self.log(f"{env_name}: up to date ({digest}), reused")
                return reused
        check_system_packages(env_name, env, self.packages.query)
        left = claim_build(paths)
        if left is not None:
            self.log(f"{env_name}: an earlier build ({describe(left)}) did not finish; removing it, building again")
        self.log(f"{env_name}: building Python {full_version} environment ({digest}); log: {paths.build_log}")
        start = time.perf_counter()
        try:
            packages = self._build(env_name, env, paths, interpreter)
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
        self.log(f"{env_name}: built in {marker['build_s']} s")
        return Prepared(env_name, env, digest, paths, full_version, packages)

    def _build(self, env_name: str, env: Environment, paths: EnvPaths, interpreter: Path) -> dict[str, str]:
        paths.marker.unlink(missing_ok=True)
        shutil.rmtree(paths.venv, ignore_errors=True)
        paths.root.mkdir(parents=True, exist_ok=True)
        req = self.loaded.requirements_path(env_name)
        try:
            with open(paths.build_log, "w") as log:
                builder = _Builder(log, env, paths, interpreter)
                builder.create_venv()
                builder.install_requirements(req)
                write_private_config(paths, env)
                run_post_build(env_name, env, paths, builder)
                builder.check_import()
                return builder.freeze()
        except EnvironmentBuildError:
            shutil.rmtree(paths.venv, ignore_errors=True)
            raise

    def _cell_env(self, cell: Cell, prepared: Prepared, ctx: RunContext) -> dict[str, str]:
        env_vars = cell_process_env(prepared.paths, prepared.environment, cell.threads, cell.seed)
        env_vars.update(ctx.slot.env() if ctx.slot else {})
        return env_vars

    def _execute(self, launch: HarnessLaunch) -> HarnessOutcome:
        """A child process in its own process group, pinned to the slot's cores, dying with its parent."""
        return run_process(launch.command, launch.env, launch.events_path, launch.log_path, launch.cell.timeout_s,
                           cwd=workload_files.workloads_dir(), limits=launch.limits, on_start=launch.on_start)


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


def _full_version(interpreter: Path) -> str:
    out = subprocess.run([str(interpreter), "-c", "import platform; print(platform.python_version())"],
                         capture_output=True, text=True, timeout=30)
    return out.stdout.strip()


class _Builder:
    """The steps of building one venv, each logged to the environment's build log."""

    def __init__(self, log, env: Environment, paths: EnvPaths, interpreter: Path) -> None:  # noqa: ANN001
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
        if self.uv:
            self.run([self.uv, "venv", "--quiet", "--python", str(self.interpreter), str(self.paths.venv)],
                     "creating the virtualenv with uv")
        else:
            self.run([str(self.interpreter), "-m", "venv", str(self.paths.venv)], "creating the virtualenv")
            pins = _PIP_PINS.get(self.env.python, ["pip", "setuptools", "wheel"])
            self.run([str(self.paths.python), "-m", "pip", "install", "--quiet", "--upgrade", *pins],
                     "upgrading pip")

    def pip_install(self, args: list[str], what: str) -> None:
        if self.uv:
            extra = ["--find-links", str(_LOCAL_WHEELS)] if _LOCAL_WHEELS.is_dir() else []
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
        return _parse_freeze(out.stdout)


def _parse_freeze(text: str) -> dict[str, str]:
    packages = {}
    for line in text.splitlines():
        if "==" in line:
            name, _, version = line.partition("==")
            packages[name.strip().lower()] = version.strip()
        elif " @ " in line:
            name, _, where = line.partition(" @ ")
            packages[name.strip().lower()] = where.strip()
    return packages


def run_post_build(env_name: str, env: Environment, paths: EnvPaths, builder: _Builder) -> None:
    """Backend-specific steps after the requirements are installed, before the import check."""
    shutil.rmtree(paths.lib, ignore_errors=True)
    hook = _POST_BUILD.get(env.backend)
    if hook is not None:
        hook(env_name, paths, builder)


# CNTK 2.7 was linked against OpenMPI 1.10; the system's OpenMPI 4 (Debian's libopenmpi3) serves the
# same calls. Links with the old names go into the environment's private lib/ folder (on LD_LIBRARY_PATH
# for every cell), never into system paths.
_CNTK_MPI_LINKS = {"libmpi.so.12": "libmpi.so.40", "libmpi_cxx.so.1": "libmpi_cxx.so.40"}


def _cntk_mpi_links(env_name: str, paths: EnvPaths, builder: _Builder) -> None:
    paths.lib.mkdir(parents=True, exist_ok=True)
    for old_name, new_name in _CNTK_MPI_LINKS.items():
        target = find_shared_library(new_name)
        if target is None:
            raise EnvironmentBuildError(
                f"environment {env_name}: CNTK needs OpenMPI ({new_name} not found by ldconfig or in the usual "
                f"library folders); install the system package libopenmpi3 (`sudo bash scripts/system-deps.sh`)"
            )
        link = paths.lib / old_name
        link.symlink_to(target)
        builder.log.write(f"linked {link} -> {target}\n")


_POST_BUILD = {"cntk": _cntk_mpi_links}
NATIVE_MODULES = {"torch": "torch", "jax": "flax", "tensorflow": "tensorflow"}  # checked after a native build

_LIBRARY_DIRS = ("/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib",
                 "/usr/lib/aarch64-linux-gnu")


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
