"""The matrix's schema: environments x workloads x profiles as pydantic models, every number with a range and
every name plain, validated before anything runs. Reading the file is load.py's; cells are expand.py's.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from orchestrator.core.paths import name_problem

Backend = Literal["tensorflow", "cntk", "theano", "mxnet", "jax", "torch", "openvino", "numpy"]
Capability = Literal["train", "infer"]
DataSource = Literal["real", "synthetic"]
DatasetName = Literal["mnist", "cifar10", "babi"]
MAX_OPTION = 1_000_000_000  # a workload option's number (a model size, a sequence length)
Option = Annotated[int, Field(ge=-MAX_OPTION, le=MAX_OPTION)] | Annotated[float, Field(ge=-MAX_OPTION, le=MAX_OPTION)] \
    | str | bool
NATIVE_BACKENDS = ("torch", "jax", "tensorflow")  # the frameworks of workloads/native/

# Ranges of the numeric fields: generous for any real run, and a typo (an extra zero, a negative) is refused.
MAX_EPOCHS = 10_000
MAX_BATCH_SIZE = 65_536
MAX_SAMPLES = 100_000_000
MAX_STEPS = 1_000_000
MAX_REPEATS = 1_000
MAX_TIMEOUT_S = 7 * 24 * 3600  # a week; the article profile's longest cell is given 6 hours
MAX_MEMORY_GB = 4096.0
MAX_SEED = 2**31 - 1  # every framework's seed fits in 32 bits, the repeat index added
MAX_THREADS = 1024
MAX_SLOTS = 256
MAX_RETRIES = 10
MAX_COMPUTE_CAPABILITY = 20.0


def _cell_name_problem(name: str) -> str | None:
    """What keeps `name` from being part of a cell id (a plain name without `__`, the ids' separator), or None."""
    return name_problem(name) or ("contains __, the separator of cell ids" if "__" in name else None)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ImageSpec(_Strict):
    """How the Docker runtime builds this environment's image (used by `--runtime docker`).

    Every field is optional: orchestrator/environments/images.py fills the gaps with defaults per Keras generation
    (legacy stacks on CUDA 10.0 / cuDNN 7 and Ubuntu 18.04's Python 3.6, Keras 3 on CUDA 12). Paths are relative to
    the matrix file; the Dockerfiles default to the project's own docker/ folder.
    """

    dockerfile: str | None = None
    # Requirements file for images, relative to the matrix (default: the environment's own). For stacks whose
    # local pin is a CPU-only build that images cannot use (tensorflow-cpu, torch "+cpu" from local wheels).
    requirements: str | None = None
    base_image: str | None = None
    cpu_base_image: str | None = None
    base_dockerfile: str | None = None
    python: str | None = None
    apt_packages: list[str] | None = None
    gpu_requirements: list[str] = Field(default_factory=list)
    post_build: list[str] = Field(default_factory=list)
    build_args: dict[str, str] = Field(default_factory=dict)
    cuda: str | None = None
    min_compute_capability: float | None = Field(default=None, ge=1.0, le=MAX_COMPUTE_CAPABILITY)
    max_compute_capability: float | None = Field(default=None, ge=1.0, le=MAX_COMPUTE_CAPABILITY)

    @model_validator(mode="after")
    def _capability_range(self) -> "ImageSpec":
        lo, hi = self.min_compute_capability, self.max_compute_capability
        if lo is not None and hi is not None and lo > hi:
            raise ValueError(f"min_compute_capability {lo:g} is above max_compute_capability {hi:g}")
        return self


class Configuration(_Strict):
    """One setting of an environment, run as its own row beside the plain environment: `<env>+<name>`.

    It shares the environment's build (virtualenv or image); only what the cell is told changes: Keras 3's
    jit_compile (XLA on TensorFlow and JAX, torch.compile on PyTorch), a mixed-precision dtype policy, the batch
    size, environment variables.
    """

    jit_compile: bool | None = None
    mixed_precision: Literal["mixed_bfloat16", "mixed_float16", "float32"] | None = None
    batch_size: int | None = Field(default=None, ge=1, le=MAX_BATCH_SIZE)
    env: dict[str, str] = Field(default_factory=dict)

    def variables(self) -> dict[str, str]:
        """What the harness reads: workloads/compat.py's ORCHESTRATE_JIT_COMPILE, harness's mixed precision."""
        found = dict(self.env)
        if self.jit_compile is not None:
            found["ORCHESTRATE_JIT_COMPILE"] = "true" if self.jit_compile else "false"
        if self.mixed_precision is not None:
            found["ORCHESTRATE_MIXED_PRECISION"] = self.mixed_precision
        return found


CONFIGURATION_SEPARATOR = "+"


class Environment(_Strict):
    """One framework stack: a backend, a Keras version, an interpreter and pinned requirements.

    `build: none` names an interpreter that is already set up (`python: /path/to/bin/python`, or `python: X.Y`
    with `interpreter:`): nothing is installed into it; orchestrator/environments/existing.py checks and records it, and
    Keras may come from `wheels` (a folder, relative to the matrix) through a private overlay.
    """

    backend: Backend
    keras: str = ""
    # keras: the workloads through Keras (this `keras` version); native: written in the framework's own API
    # (workloads/native/: the cost of Keras), no `keras` field.
    api: Literal["keras", "native"] = "keras"
    python: str
    requirements: str = ""
    build: Literal["venv", "none"] = "venv"
    wheels: str | None = None
    interpreter: str | None = None
    capabilities: list[Capability] = Field(default_factory=lambda: ["train", "infer"])
    image_data_format: Literal["channels_last", "channels_first"] = "channels_last"
    env: dict[str, str] = Field(default_factory=dict)
    installer: Literal["uv", "pip"] = "uv"
    system_packages: list[str] = Field(default_factory=list)
    pip_pre: list[str] = Field(default_factory=list)
    # Installed after the requirements with --no-deps (keras-hub, whose declared dependencies would pull
    # tensorflow and tensorflow-text into every backend's environment); their real needs go in the requirements.
    no_deps: list[str] = Field(default_factory=list)
    image: ImageSpec | None = None
    # The LSTM `implementation` mode to pin (Keras 1: consume_less cpu/mem/gpu = 0/1/2); None: the Keras default.
    lstm_implementation: Literal[0, 1, 2] | None = None
    # Local runtime: each cell forked from a parent that imported the framework once (execution/warm.py), where
    # benchmarks/warm_start.py showed the children time like fresh processes (docs/measuring.md, "Warm start").
    warm_start: bool = False
    # Settings run side by side as `<env>+<name>` environments sharing this one's build.
    configurations: dict[str, Configuration] = Field(default_factory=dict)
    # Set on a derived `<env>+<name>` environment only (made by load_matrix, never written in a matrix file).
    base: str | None = None
    configuration: Configuration | None = None
    notes: str = ""

    @field_validator("configurations")
    @classmethod
    def _configuration_names(cls, value: dict[str, Configuration]) -> dict[str, Configuration]:
        for name in value:
            problem = _cell_name_problem(name)
            if problem:
                raise ValueError(f"configuration name {name!r} {problem}")
        return value

    @field_validator("keras")
    @classmethod
    def _keras_version(cls, value: str) -> str:
        if value and not value.split(".")[0].isdigit():
            raise ValueError(f"must be a version starting with its major number, like '3.15.1', got {value!r}")
        return value

    @model_validator(mode="after")
    def _keras_for_api(self) -> "Environment":
        if self.api == "keras" and not self.keras:
            raise ValueError("keras: required field is missing (the Keras version, like '3.15.1'; or set api: "
                             "native for a workload written in the framework's own API)")
        if self.api == "native" and self.keras:
            raise ValueError(f"keras: {self.keras!r} with api: native: a native environment runs no Keras; "
                             "remove the keras field")
        if self.api == "native" and self.backend not in NATIVE_BACKENDS:
            raise ValueError(f"api: native has workloads for the backends {', '.join(NATIVE_BACKENDS)}, "
                             f"not {self.backend!r}")
        return self

    @model_validator(mode="after")
    def _lstm_mode_exists(self) -> "Environment":
        mode, parts = self.lstm_implementation, self.keras.split(".")
        cell_based = self.keras_major >= 3 or (self.keras_major == 2 and len(parts) > 1 and parts[1].isdigit()
                                               and int(parts[1]) >= 1)
        if mode == 0 and cell_based:
            raise ValueError(f"lstm_implementation 0 does not exist in Keras {self.keras} (Keras 2.1 dropped it "
                             "with the cell-based RNNs): use 1 or 2, or leave it unset for the Keras default")
        return self

    @field_validator("python")
    @classmethod
    def _python_version(cls, value: str) -> str:
        parts = value.split(".")
        if is_interpreter_path(value):
            return value  # allowed with `build: none` only (checked below)
        if len(parts) != 2 or not all(p.isdigit() for p in parts):
            raise ValueError(f"must be MAJOR.MINOR like '3.11' (or, with build: none, an interpreter's path), "
                             f"got {value!r}")
        return value

    @model_validator(mode="after")
    def _build_fields(self) -> "Environment":
        if self.build == "venv":
            if is_interpreter_path(self.python):
                raise ValueError(f"python: {self.python!r} is a path: give MAJOR.MINOR, or set build: none to "
                                 "use that interpreter as it is")
            if not self.requirements:
                raise ValueError("requirements: required field is missing (or set build: none for an "
                                 "interpreter that is already set up)")
            if self.wheels:
                raise ValueError("wheels: only for build: none (a venv installs its requirements file)")
        return self

    @property
    def keras_major(self) -> int:
        """The Keras generation; 0 for a native environment (no Keras)."""
        return int(self.keras.split(".")[0]) if self.keras else 0


class Workload(_Strict):
    """One upstream Keras example, with its upstream defaults; or a user's model file (`script`)."""

    dataset: DatasetName | None = None
    epochs: int = Field(ge=1, le=MAX_EPOCHS)
    batch_size: int = Field(ge=1, le=MAX_BATCH_SIZE)
    # A user's model file (relative to the matrix) with the workload contract: docs/your-model.md.
    script: str | None = None
    # Settings the workload reads from spec["options"] (model size, sequence length...); a profile may override them.
    options: dict[str, Option] = Field(default_factory=dict)
    # Only these environments run it (default: all); e.g. workloads/modern needs KerasHub (the Keras 3 training ones).
    environments: list[str] = Field(default_factory=list)
    upstream: str = ""
    description: str = ""

    @model_validator(mode="after")
    def _dataset_or_script(self) -> "Workload":
        if self.dataset is None and self.script is None:
            raise ValueError("dataset: required field is missing (or give `script:`, a model file of your own)")
        return self


class WorkloadOverride(_Strict):
    epochs: int | None = Field(default=None, ge=1, le=MAX_EPOCHS)
    batch_size: int | None = Field(default=None, ge=1, le=MAX_BATCH_SIZE)
    options: dict[str, Option] = Field(default_factory=dict)  # merged over the workload's own
    train_samples: int | None = Field(default=None, ge=1, le=MAX_SAMPLES)
    test_samples: int | None = Field(default=None, ge=1, le=MAX_SAMPLES)
    steps_per_epoch: int | None = Field(default=None, ge=1, le=MAX_STEPS)
    timeout_s: float | None = Field(default=None, gt=0, le=MAX_TIMEOUT_S)
    memory_limit_gb: float | None = Field(default=None, gt=0, le=MAX_MEMORY_GB)


JUDGED_PHASES = ("train", "predict", "generate")  # what a profile judges unless it says (profiles.<name>.judge)


class Profile(_Strict):
    """How much of each workload to run: `article` is the upstream size, `smoke` a few batches."""

    description: str = ""
    epochs: int | None = Field(default=None, ge=1, le=MAX_EPOCHS)
    train_samples: int | None = Field(default=None, ge=1, le=MAX_SAMPLES)
    test_samples: int | None = Field(default=None, ge=1, le=MAX_SAMPLES)
    steps_per_epoch: int | None = Field(default=None, ge=1, le=MAX_STEPS)
    repeats: int = Field(default=1, ge=1, le=MAX_REPEATS)
    # Sequential repeats (`run --budget`, analysis/sequential.py): after the first `repeats`, more only for the
    # undecided pairs until decided, the last look or this wall-clock budget ("15m", "900s", "1h"; unset: fixed).
    budget: str | None = Field(default=None, pattern=r"^\s*\d+(\.\d+)?\s*[smh]?\s*$")
    timeout_s: float = Field(default=3600, gt=0, le=MAX_TIMEOUT_S)
    memory_limit_gb: float | None = Field(default=None, gt=0, le=MAX_MEMORY_GB)
    data: DataSource = "real"
    # What shows a backend trained the model before its speed counts (analysis/verdicts/validity.py): `accuracy` (test
    # accuracy off chance and near the other backends'), or `loss` for random-weight models trained too briefly to
    # leave chance (training loss falls and ends near the others'; accuracy reported, not judged: speed only).
    validity: Literal["accuracy", "loss"] = "accuracy"
    # The phases whose times get verdicts (analysis/verdicts/phases.py): training always; prediction and generation
    # add decisions to the report's one Holm family, which costs every decision power, so a profile judges only
    # what its question is about (the default comparison: training, as the 2017 article timed it).
    judge: list[Literal["train", "predict", "generate"]] = Field(default_factory=lambda: list(JUDGED_PHASES))
    workloads: dict[str, WorkloadOverride] = Field(default_factory=dict)

    @field_validator("judge")
    @classmethod
    def _judge_trains(cls, value: list[str]) -> list[str]:
        if "train" not in value:
            raise ValueError("must include 'train': prediction and generation verdicts take their validity from "
                             "training (e.g. judge: [train, predict])")
        return list(dict.fromkeys(value))


class Selection(_Strict):
    """What `orchestrate run` runs when no --env/--workload is given."""

    profile: str = "quick"
    environments: list[str] = Field(default_factory=list)
    workloads: list[str] = Field(default_factory=list)


MAX_PRICE_PER_HOUR = 100_000.0  # a machine's price per hour, in its currency


class Price(_Strict):
    """What one machine costs per hour (list price), for $ per epoch and per run beside the times."""

    per_hour: float = Field(gt=0, le=MAX_PRICE_PER_HOUR)
    currency: str = "USD"
    machine: str = ""
    source: str = ""


class Matrix(_Strict):
    version: Literal[1] = 1
    default: Selection = Field(default_factory=Selection)
    seed: int = Field(default=1337, ge=0, le=MAX_SEED)
    threads: int | None = Field(default=None, ge=1, le=MAX_THREADS)
    # Cells run at once: one per GPU on a GPU machine (at most `slots`); on a CPU-only machine `slots` (default 1).
    slots: int | None = Field(default=None, ge=1, le=MAX_SLOTS)
    # Retries of an infrastructure failure (a build's network error, a container that did not start).
    retries: int = Field(default=2, ge=0, le=MAX_RETRIES)
    # A folder of extra workload modules (relative to this file), searched before the project's workloads/.
    workloads_dir: str | None = None
    # Verdicts (orchestrator/analysis/verdicts/): every backend's time is put as a ratio to this environment's; default
    # the article's TensorFlow environment (tensorflow1) when the matrix has it, else the first one run.
    reference: str | None = None
    # A difference smaller than this fraction (0.05: 5%) is never called faster or slower: a tie.
    tie_threshold: float = Field(default=0.05, ge=0, lt=1)
    # The family-wise significance level: Holm over every faster/slower decision of a report (exact rank-sum tests).
    alpha: float = Field(default=0.05, gt=0, lt=1)
    # The machine's price per hour (`orchestrate run --price-per-hour` overrides per_hour).
    price: Price | None = None
    # Where every run is indexed (orchestrator/store): a postgresql:// URL (a team's server) or an SQLite file path
    # (relative to the working directory); default results/store.sqlite. `orchestrate run --store` overrides.
    store: str | None = None
    environments: dict[str, Environment]
    workloads: dict[str, Workload]
    profiles: dict[str, Profile]

    @field_validator("environments", "workloads", "profiles")
    @classmethod
    def _plain_names(cls, value: dict[str, Any]) -> dict[str, Any]:
        """Names become folders, files and image tags (cache, results, cell ids): plain names only."""
        for name in value:
            problem = _cell_name_problem(name)
            if problem:
                raise ValueError(f"name {name!r} {problem}")
        return value

    @model_validator(mode="after")
    def _references(self) -> "Matrix":
        _check_names("default.profile", [self.default.profile], self.profiles)
        _check_names("default.environments", self.default.environments, self.environments)
        _check_names("default.workloads", self.default.workloads, self.workloads)
        _check_names("reference", [self.reference] if self.reference else [], self.environments)
        for name, profile in self.profiles.items():
            _check_names(f"profiles.{name}.workloads", list(profile.workloads), self.workloads)
        for name, workload in self.workloads.items():
            _check_names(f"workloads.{name}.environments", workload.environments, self.environments)
        return self


def only_environments(raw: dict[str, Any], environments: dict[str, Any]) -> dict[str, Any]:
    """A raw matrix (as read from YAML) cut down to `environments`: the default selection runs them all, the matrix's
    reference is dropped unless kept, and a workload restricted to other environments (the modern models'
    `environments:`) keeps those of the copy or is left out, with every reference to it (default, profiles)."""
    raw = dict(raw, environments=environments)
    kept = {}
    for name, workload in (raw.get("workloads") or {}).items():
        allowed = (workload or {}).get("environments")
        if not allowed:
            kept[name] = workload
        elif set(allowed) & set(environments):
            kept[name] = {**workload, "environments": [e for e in allowed if e in environments]}
    raw["workloads"] = kept
    default = dict(raw.get("default") or {}, environments=list(environments))
    default["workloads"] = [w for w in default.get("workloads") or [] if w in kept]
    raw["default"] = default
    raw["profiles"] = {name: {**profile, "workloads": {w: o for w, o in (profile.get("workloads") or {}).items()
                                                        if w in kept}}
                       for name, profile in (raw.get("profiles") or {}).items()}
    if raw.get("reference") not in environments:
        raw.pop("reference", None)
    return raw


def _check_names(field: str, names: list[str], known: dict[str, Any]) -> None:
    for name in names:
        if name not in known:
            raise ValueError(f"{field}: unknown name {name!r}; known: {', '.join(known)}")


def is_interpreter_path(value: str) -> bool:
    """Whether a `python:` value names an interpreter file rather than a MAJOR.MINOR version."""
    return "/" in value or value.startswith("~")
