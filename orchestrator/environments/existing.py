"""Existing environments (`build: none`): an interpreter that is already set up, used as it is.

A cloud deep-learning image, a cluster node or a machine with no internet often holds one Python with CUDA
builds of the frameworks and nothing else. Such an environment is never built or changed: preparing it checks
that the backend and Keras import (Keras with the environment's backend), records the interpreter's packages
and framework versions (`existing.json` in the environment's cache folder, `environment.packages` in each
result), and refuses with an error naming what is missing. Keras may be absent there: given a folder of wheels
(`--wheels DIR` or the matrix field `wheels`), it is installed into a private overlay in the environment's cache
folder (orchestrator/environments/overlay.py) that cells put on PYTHONPATH, never into the interpreter.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from orchestrator.environments import overlay
from orchestrator.environments.layout import EnvPaths, cell_process_env, env_paths, write_private_config
from orchestrator.core.errors import EnvironmentBuildError, InterpreterNotFound
from orchestrator.environments.interpreters import find_interpreter, interpreter_version
from orchestrator.config.schema import Environment, is_interpreter_path
from orchestrator.config.load import LoadedMatrix
from orchestrator.core.files import write_json_atomic
from orchestrator.environments.prepared import Prepared

Log = Callable[[str], None]

# The module each backend imports as (what must be in the interpreter: the overlay brings Keras only).
BACKEND_MODULES = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch", "openvino": "openvino",
                   "cntk": "cntk", "theano": "theano", "mxnet": "mxnet", "numpy": "numpy"}

_FIND_KERAS = ("import importlib.util, sys\n"
               "sys.exit(0 if importlib.util.find_spec('keras') else 'ModuleNotFoundError: no module named keras')")

_IMPORT_CHECK = r'''
import json, sys
import keras
backend = keras.backend.backend()
module = __import__(sys.argv[1])
print(json.dumps({"keras": keras.__version__, "keras_file": keras.__file__, "backend": backend,
                  "backend_version": str(getattr(module, "__version__", "unknown"))}))
'''


@dataclass(frozen=True)
class ExistingEnvPaths(EnvPaths):
    """The cache folders of an existing environment; `python` is the interpreter as given, not a venv's."""

    interpreter: Path = Path("python")
    use_overlay: bool = False

    @property
    def python(self) -> Path:
        return self.interpreter

    @property
    def overlay(self) -> Path | None:
        return self.overlay_dir if self.use_overlay else None

    @property
    def overlay_dir(self) -> Path:
        return self.root / "overlay"

    @property
    def record(self) -> Path:
        return self.root / "existing.json"


def prepare_existing(loaded: LoadedMatrix, env_name: str, cache: Path, log: Log) -> Prepared:
    """Check and record an existing interpreter; install a missing Keras into the private overlay if wheels allow."""
    env = loaded.matrix.environments[env_name]
    interpreter = resolve_interpreter(loaded, env_name, env)
    paths = ExistingEnvPaths(env_paths(cache, env_name).root, interpreter)
    paths.root.mkdir(parents=True, exist_ok=True)
    write_private_config(paths, env)
    _check_backend(env_name, env, interpreter)
    if env.api == "native":  # no Keras to check or overlay: the framework itself must import
        versions = _check_native(env_name, env, paths)
    else:
        paths = _with_keras(loaded, env_name, env, paths, log)
        versions = _check_import(env_name, env, paths)
    state = overlay.probe(interpreter, paths.overlay)
    digest = _digest(env_name, env, interpreter, state.packages)
    record = {
        "env_hash": digest, "name": env_name, "existing": True, "interpreter": str(interpreter),
        "prefix": state.prefix, "python_version": state.python, "overlay": str(paths.overlay or "") or None,
        "keras": versions["keras"], "keras_file": versions["keras_file"], "backend": versions["backend"],
        "backend_version": versions["backend_version"], "packages": state.packages,
    }
    write_json_atomic(paths.record, record)
    where = f"overlay {paths.overlay}" if paths.overlay else "the interpreter"
    log(f"{env_name}: existing interpreter {interpreter} (Python {state.python}): keras {versions['keras']} "
        f"(from {where}), {env.backend} {versions['backend_version']}; nothing installed into it")
    if versions["keras"] != env.keras:
        log(f"{env_name}: the matrix says keras {env.keras}, the interpreter has {versions['keras']}: results "
            "record the one that ran")
    return Prepared(env_name, env, digest, paths, state.python, state.packages, reused=True)


def resolve_interpreter(loaded: LoadedMatrix, env_name: str, env: Environment) -> Path:
    """The interpreter as the matrix names it (a path is kept as given: a venv's python must not be resolved)."""
    if not is_interpreter_path(env.python):
        return find_interpreter(env.python, env.interpreter)
    path = Path(os.path.expanduser(env.python))
    if not path.is_absolute():
        path = Path(os.path.abspath(loaded.root / path))
    if interpreter_version(path) is None:
        raise InterpreterNotFound(
            f"environment {env_name} (build: none): interpreter {path} (environments.{env_name}.python in "
            f"{loaded.path}) {'does not run' if path.exists() else 'does not exist'}; name the python of an "
            "environment that is already set up"
        )
    return path


def _check_backend(env_name: str, env: Environment, interpreter: Path) -> None:
    module = BACKEND_MODULES[env.backend]
    proc = _python(interpreter, ["-c", f"import {module}"], _plain_env())
    if proc.returncode != 0:
        raise EnvironmentBuildError(
            f"environment {env_name} (build: none): the backend {env.backend!r} does not import in {interpreter} "
            f"({_last_line(proc.stderr)}). An existing environment must hold its framework: nothing is installed "
            "into it (the overlay brings Keras only)"
        )


def _with_keras(loaded: LoadedMatrix, env_name: str, env: Environment, paths: ExistingEnvPaths,
                log: Log) -> ExistingEnvPaths:
    """The paths with the overlay in use when the interpreter lacks Keras (installed from the wheel folder)."""
    bare = _python(paths.interpreter, ["-c", _FIND_KERAS], _plain_env())
    if bare.returncode == 0:
        shutil.rmtree(paths.overlay_dir, ignore_errors=True)  # the interpreter's own Keras wins
        return paths
    wheels = loaded.wheels_dir(env_name)
    marker = paths.overlay_dir / ".orchestrate-overlay.json"
    made = _read_json(marker)
    if wheels is None and made.get("interpreter") == str(paths.interpreter) and made.get("keras") == env.keras:
        log(f"{env_name}: no wheel folder given: the overlay made earlier from {made.get('wheels')} is used")
        return ExistingEnvPaths(paths.root, paths.interpreter, use_overlay=True)
    if wheels is None:
        raise EnvironmentBuildError(
            f"environment {env_name} (build: none): keras is not installed in {paths.interpreter} "
            f"({_last_line(bare.stderr)}). Give a folder holding Keras' wheel (keras=={env.keras}) and those of its "
            f"requirements that the interpreter lacks, with --wheels DIR or environments.{env_name}.wheels: they "
            "go into a private overlay in the orchestrator's cache, never into the interpreter"
        )
    overlay_paths = ExistingEnvPaths(paths.root, paths.interpreter, use_overlay=True)
    key = _overlay_key(paths.interpreter, wheels, env.keras)
    if made.get("key") == key:
        return overlay_paths
    shutil.rmtree(paths.overlay_dir, ignore_errors=True)
    log(f"{env_name}: keras is not in {paths.interpreter}: installing keras=={env.keras} from {wheels} into the "
        f"private overlay {paths.overlay_dir}")
    try:
        with open(paths.build_log, "w") as build_log:
            result = overlay.install(paths.interpreter, wheels, paths.overlay_dir, [f"keras=={env.keras}"], build_log)
    except overlay.OverlayError as exc:
        shutil.rmtree(paths.overlay_dir, ignore_errors=True)
        raise EnvironmentBuildError(f"environment {env_name} (build: none): {exc}") from None
    write_json_atomic(marker, {"key": key, "interpreter": str(paths.interpreter), "keras": env.keras,
                               "wheels": str(wheels), "installed": result.installed, "kept": result.mismatches})
    for line in result.mismatches:
        log(f"{env_name}: overlay keeps the interpreter's version: {line}")
    return overlay_paths


def _check_import(env_name: str, env: Environment, paths: ExistingEnvPaths) -> dict[str, str]:
    """Import Keras as a cell would (same process env) and check that it picked the environment's backend."""
    cell_env = cell_process_env(paths, env, threads=1, seed=0)
    proc = _python(paths.interpreter, ["-c", _IMPORT_CHECK, BACKEND_MODULES[env.backend]], cell_env)
    if proc.returncode != 0:
        raise EnvironmentBuildError(
            f"environment {env_name} (build: none): importing keras with the {env.backend} backend failed in "
            f"{paths.interpreter}:\n{proc.stderr.strip()[-2000:]}"
        )
    versions: dict[str, str] = json.loads(proc.stdout.strip().splitlines()[-1])
    if versions["backend"] != env.backend:
        raise EnvironmentBuildError(f"environment {env_name} (build: none): keras loaded the backend "
                                    f"{versions['backend']!r}, expected {env.backend!r}")
    return versions


_NATIVE_CHECK = ("import json, sys, importlib; m = [importlib.import_module(x) for x in sys.argv[1:]][0]; "
                 "print(json.dumps({'keras': 'native', 'keras_file': None, 'backend_version': m.__version__}))")
NATIVE_IMPORTS = {"torch": ["torch"], "jax": ["jax", "flax.nnx", "optax"], "tensorflow": ["tensorflow"]}


def _check_native(env_name: str, env: Environment, paths: ExistingEnvPaths) -> dict[str, str]:
    """A native environment on an existing interpreter: its framework (and flax/optax for JAX) must import."""
    modules = NATIVE_IMPORTS[env.backend]
    proc = _python(paths.interpreter, ["-c", _NATIVE_CHECK, *modules], cell_process_env(paths, env, threads=1, seed=0))
    if proc.returncode != 0:
        raise EnvironmentBuildError(
            f"environment {env_name} (build: none, api: native): importing {', '.join(modules)} failed in "
            f"{paths.interpreter}; install them there or drop the environment:\n{proc.stderr.strip()[-2000:]}")
    versions: dict[str, str] = json.loads(proc.stdout.strip().splitlines()[-1])
    versions["backend"] = env.backend
    return versions


def _python(interpreter: Path, args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(interpreter), *args], capture_output=True, text=True, env=env, timeout=300)


def _plain_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "KERAS_", "VIRTUAL_ENV"))}


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


def _read_json(path: Path) -> dict[str, object]:
    try:
        raw = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return raw if isinstance(raw, dict) else {}


def _overlay_key(interpreter: Path, wheels: Path, keras: str) -> str:
    """Decides whether an overlay can be reused: the interpreter, the wheel folder's files, the Keras asked for."""
    listing = sorted((p.name, p.stat().st_size) for p in wheels.glob("*.whl"))
    blob = json.dumps([str(interpreter), str(wheels), keras, listing])
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _digest(env_name: str, env: Environment, interpreter: Path, packages: dict[str, str]) -> str:
    payload = {"name": env_name, "environment": env.model_dump(mode="json", exclude={"notes", "image"}),
               "interpreter": str(interpreter), "packages": packages}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]
