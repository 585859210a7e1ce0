"""What every runtime shares about an environment: its cache folders, its content hash, its process env.

An environment is defined by its matrix entry, its requirements file, the interpreter it is built with and
the build recipe version. Their hash decides whether a prepared environment can be reused.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from orchestrator.core.errors import ConfigError
from orchestrator.config.schema import Environment
from orchestrator.config.load import LoadedMatrix
from orchestrator.core import workload_files
from orchestrator.core.paths import inside, safe_name
from orchestrator.core.protocol import THREAD_VARS, XLA_FLAGS, XLA_ONE_THREAD_FLAGS

# Bump when the way environments are built changes, so old builds are not reused.
BUILD_RECIPE_VERSION = 1

# The per-user cache folder's name (installed use: ~/.cache/orchestrate on Linux).
USER_CACHE_NAME = "orchestrate"

# Variables from the caller's shell that would leak into a cell and change what it measures, and the store's
# password (PGPASSWORD is the orchestrator's, for its store: a cell has no use for it, nor its logs).
_SCRUBBED_PREFIXES = ("KERAS_", "THEANO", "PYTHON", "VIRTUAL_ENV", "CONDA_", "XLA_", "TF_", "JAX_", "MXNET_",
                      "ORCHESTRATE_JIT_", "ORCHESTRATE_LSTM_", "ORCHESTRATE_DATA_FEED", "ORCHESTRATE_CIFAR10_",
                      "TORCH", "OV_", "OPENVINO", "OMP_", "GOMP_", "KMP_", "PGPASSWORD")


def cache_dir(explicit: str | Path | None, loaded: LoadedMatrix) -> Path:
    """The project's cache directory: --cache-dir, $ORCHESTRATE_CACHE_DIR; else, for a matrix that builds from the
    installed package's own files (its bundled matrix, `run --model`, a matrix `orchestrate init` wrote), the
    per-user cache directory (platformdirs: ~/.cache/orchestrate on Linux); else .orchestrate beside the matrix.

    Made here if missing; a path that cannot be a writable folder is refused before anything is built.
    """
    path = chosen_cache_dir(explicit, loaded)
    try:
        path.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=path).close()
    except OSError as exc:
        why = "a file is there" if path.exists() and not path.is_dir() else exc.strerror
        default = "the per-user cache" if uses_installed_files(loaded) else "beside the matrix"
        raise ConfigError(f"cache directory {path} (from --cache-dir, ORCHESTRATE_CACHE_DIR, or {default}) "
                          f"is not a writable folder ({why}); choose another with --cache-dir") from None
    return path


def chosen_cache_dir(explicit: str | Path | None, loaded: LoadedMatrix) -> Path:
    """The cache directory `cache_dir` would use, neither made nor checked."""
    chosen = explicit or os.environ.get("ORCHESTRATE_CACHE_DIR")
    return Path(chosen).expanduser().resolve() if chosen else default_cache_dir(loaded)


def default_cache_dir(loaded: LoadedMatrix) -> Path:
    """Where environments go when no folder is named: the per-user cache for installed use, else (a clone, a
    project folder with its own requirements) .orchestrate beside the matrix."""
    if uses_installed_files(loaded):
        # Imported here: a clone's offline interpreter (scripts/gpu-wheels.sh) runs without platformdirs.
        from platformdirs import user_cache_dir

        return Path(user_cache_dir(USER_CACHE_NAME, appauthor=False))
    return loaded.root / ".orchestrate"


def uses_installed_files(loaded: LoadedMatrix) -> bool:
    """Whether the matrix is the installed package's own or builds from its requirements files."""
    if workload_files.is_installed_file(loaded.path):
        return True
    return any(workload_files.is_installed_file(loaded.root / env.requirements)
               for env in loaded.matrix.environments.values() if env.build != "none" and env.requirements)


@dataclass(frozen=True)
class EnvPaths:
    """The private folders of one environment under the project's cache directory."""

    root: Path

    @property
    def venv(self) -> Path:
        return self.root / "venv"

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def keras_home(self) -> Path:
        return self.root / "keras_home"

    @property
    def caches(self) -> Path:
        return self.root / "cache"

    @property
    def lib(self) -> Path:
        """Private shared libraries (compatibility links) put on LD_LIBRARY_PATH."""
        return self.root / "lib"

    @property
    def marker(self) -> Path:
        return self.root / "ready.json"

    @property
    def building(self) -> Path:
        """Who is building this environment; left behind only by a build that did not finish (locks.py)."""
        return self.root / "building.json"

    @property
    def overlay(self) -> Path | None:
        """Packages put on PYTHONPATH for cells (an existing interpreter's private Keras); none for a venv."""
        return None

    @property
    def build_log(self) -> Path:
        return self.root / "build.log"


def env_paths(cache: Path, name: str) -> EnvPaths:
    envs = cache / "envs"
    return EnvPaths(inside(envs, envs / safe_name(name, "environment name"), f"environment {name!r}"))


def env_hash(name: str, env: Environment, requirements_text: str, interpreter_id: str) -> str:
    """A content hash of everything that defines an environment."""
    payload = {
        "recipe": BUILD_RECIPE_VERSION,
        "name": name,
        # The requirements file counts by its content (below), not its path: a matrix elsewhere that names the
        # same pins reuses the same environment.
        # `build` and `wheels` are constant for a venv (existing environments hash themselves: existing.py);
        # an unset lstm_implementation (or no_deps, or api: keras) leaves the hashes of environments made before
        # the field unchanged.
        # `warm_start` is how cells start, not what the environment holds.
        "environment": env.model_dump(mode="json", exclude={"notes", "image", "requirements", "build", "wheels",
                                                            "warm_start"} | (
            {"lstm_implementation"} if env.lstm_implementation is None else set()) | (
            {"no_deps"} if not env.no_deps else set()) | (
            {"api"} if env.api == "keras" else set()) | {"configurations", "base", "configuration"}),
        "requirements": requirements_text,
        "interpreter": interpreter_id,
    }
    blob = json.dumps(payload, sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def keras_config(env: Environment) -> dict[str, object]:
    """keras.json for this environment, written in the generation's own vocabulary."""
    config: dict[str, object] = {"backend": env.backend, "floatx": "float32", "epsilon": 1e-07}
    if env.keras_major == 1:
        config["image_dim_ordering"] = "th" if env.image_data_format == "channels_first" else "tf"
    else:
        config["image_data_format"] = env.image_data_format
    return config


def write_private_config(paths: EnvPaths, env: Environment) -> None:
    """Private HOME and KERAS_HOME with keras.json, so no run reads or writes ~/.keras."""
    text = json.dumps(keras_config(env), indent=2)
    for folder in (paths.keras_home, paths.home / ".keras"):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "keras.json").write_text(text)
    paths.caches.mkdir(parents=True, exist_ok=True)


def cell_process_env(paths: EnvPaths, env: Environment, threads: int, seed: int,
                     base: dict[str, str] | None = None) -> dict[str, str]:
    """The process environment of a cell: private homes and caches, backend, explicit thread counts."""
    result = {k: v for k, v in (base if base is not None else os.environ).items()
              if not k.startswith(_SCRUBBED_PREFIXES)}
    caches = paths.caches
    result.update({
        "HOME": str(paths.home),
        "KERAS_HOME": str(paths.keras_home),
        "KERAS_BACKEND": env.backend,
        "XDG_CACHE_HOME": str(caches),
        "MPLCONFIGDIR": str(caches / "matplotlib"),
        "THEANO_FLAGS": f"base_compiledir={caches / 'theano'}",
        "MXNET_HOME": str(caches / "mxnet"),
        "TORCHINDUCTOR_CACHE_DIR": str(caches / "torchinductor"),
        "PYTHONHASHSEED": str(seed),
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONFAULTHANDLER": "1",  # a segfault or abort leaves the Python stack in the cell's log
        "TF_CPP_MIN_LOG_LEVEL": "2",
    })
    for var in THREAD_VARS:  # the thread variables of the host/harness protocol
        result[var] = str(threads)
    if env.backend == "jax" and threads == 1:
        # XLA's CPU pool has no size knob; one thread is reachable by turning multi-threaded Eigen off.
        result[XLA_FLAGS] = XLA_ONE_THREAD_FLAGS
    if env.lstm_implementation is not None:  # read by workloads/compat.py; read back into the result
        result["ORCHESTRATE_LSTM_IMPLEMENTATION"] = str(env.lstm_implementation)
    if paths.lib.is_dir():
        result["LD_LIBRARY_PATH"] = os.pathsep.join(
            p for p in (str(paths.lib), result.get("LD_LIBRARY_PATH", "")) if p
        )
    if paths.overlay is not None:
        result["PYTHONPATH"] = str(paths.overlay)
    for key, value in env.env.items():
        if key == "THEANO_FLAGS":
            result[key] = f"{result[key]},{value}"
        else:
            result[key] = value
    return result
