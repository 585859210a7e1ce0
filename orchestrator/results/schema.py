"""The CellResult schema (documented in docs/results-schema.md): one cell's result, with the versions, host,
device, threads and data provenance it was made with. Writing is core/files.py's (atomic); reading is io.py's.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1

Status = Literal["ok", "failed", "timeout", "unsupported"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EnvironmentInfo(_Model):
    name: str
    backend: str
    keras_version: str
    python_version: str
    runtime: str
    framework_version: str | None = None
    numpy_version: str | None = None
    image_data_format: str | None = None
    packages: dict[str, str] = Field(default_factory=dict)
    env_hash: str | None = None
    image: str | None = None
    # A configuration (`<base>+<name>`): its base environment and settings (jit_compile, mixed precision...).
    configuration: dict[str, Any] | None = None


class WorkloadInfo(_Model):
    name: str
    profile: str
    epochs: int
    batch_size: int
    repeat: int = 0
    seed: int | None = None
    train_samples: int | None = None
    test_samples: int | None = None
    steps_per_epoch: int | None = None


class ModelInfo(_Model):
    params: int | None = None
    deviations: list[str] = Field(default_factory=list)
    hyperparameters: dict[str, Any] = Field(default_factory=dict)


class DataInfo(_Model):
    source: Literal["real", "synthetic"] | None = None
    dataset: str | None = None
    path: str | None = None
    sha256: dict[str, str] = Field(default_factory=dict)
    samples: dict[str, int] = Field(default_factory=dict)
    subset: str | None = None
    notes: list[str] = Field(default_factory=list)


class Timings(_Model):
    process_s: float | None = None
    import_s: float | None = None
    data_s: float | None = None
    build_s: float | None = None
    fit_s: float | None = None
    compile_s: float | None = None  # Keras 1/2: train/test functions built before fit (Theano's C compile)
    evaluate_s: float | None = None
    epochs_s: list[float] = Field(default_factory=list)
    first_epoch_s: float | None = None
    steady_state_s: float | None = None
    samples_per_s: float | None = None
    # keras-benchmarks' definitions: mean ms per training step after the first (users' and modern workloads), and
    # mean ms per timed predict batch after the warm-up batch (every cell with an inference phase).
    fit_ms_per_step: float | None = None
    predict_ms_per_step: float | None = None
    # A warm start: the cell was forked from a parent that imported the framework (parent_pid, parent_import_s,
    # children_before, hash_seed: the parent's PYTHONHASHSEED); import_s is then the child's, about 0. None: fresh.
    warm_start: dict[str, Any] | None = None


class EpochMetrics(_Model):
    epoch: int
    seconds: float
    loss: float | None = None
    accuracy: float | None = None
    val_loss: float | None = None
    val_accuracy: float | None = None
    time: float | None = None  # wall clock (Unix seconds) at the epoch's end: joins epochs to monitor samples


class Metrics(_Model):
    per_epoch: list[EpochMetrics] = Field(default_factory=list)
    test: dict[str, float] = Field(default_factory=dict)


class Threads(_Model):
    requested: int
    env: dict[str, str] = Field(default_factory=dict)
    framework: dict[str, Any] = Field(default_factory=dict)


class HostInfo(_Model):
    hostname: str | None = None
    platform: str | None = None
    cpu: str | None = None
    cpu_count: int | None = None
    memory_gb: float | None = None
    gpus: list[dict[str, Any]] = Field(default_factory=list)
    device: str = "cpu"
    # Where the framework says the model ran (workloads/harness.py framework_device): kind gpu/cpu/unknown,
    # the first weight's device, the accelerators it sees. None when the cell never got that far.
    framework_device: dict[str, Any] | None = None
    load_average: list[float] = Field(default_factory=list)  # 1/5/15-minute load just before the cell started


class ErrorInfo(_Model):
    type: str
    message: str
    log_tail: str = ""


class LimitsInfo(_Model):
    """The limits a cell ran under, and how the runtime held its memory limit."""

    timeout_s: float | None = None
    memory_gb: float | None = None
    memory_enforced_by: str | None = None


class BackendSettings(_Model):
    """Settings that silently differ between backends, read back inside the cell after fit
    (workloads/settings_probe.py; docs/backend-settings.md). Absent in results written before them."""

    # float32 matmul / convolution precision as the framework reports it: framework, tf32_matmul, tf32_conv (may
    # float32 products run in TF32 or lower), the framework's own setting (float32_matmul_precision,
    # tensor_float_32_execution, default_matmul_precision...), device and compute_capability where it ran.
    matmul: dict[str, Any] = Field(default_factory=dict)
    steps_per_execution: int | None = None  # Keras 2.4+ / 3: batches per compiled call of the fit loop
    # torch only: requested, compiled, frames_compiled, unique_graphs, recompiles (recompiles_from: which dynamo
    # counter), graph_breaks, graph_break_reasons, as dynamo counted them by the end of fit.
    torch_compile: dict[str, Any] | None = None
    errors: dict[str, str] = Field(default_factory=dict)  # a probe that failed: "unknown: <exception>"


class CellResult(_Model):
    schema_version: int = SCHEMA_VERSION
    run_id: str
    cell_id: str
    status: Status
    reason: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    attempts: int = 1
    environment: EnvironmentInfo
    workload: WorkloadInfo
    model: ModelInfo = Field(default_factory=ModelInfo)
    data: DataInfo = Field(default_factory=DataInfo)
    timings: Timings = Field(default_factory=Timings)
    metrics: Metrics = Field(default_factory=Metrics)
    inference: dict[str, Any] | None = None
    # Keras 3: the equivalence check before fit (workloads/equivalence.py): outputs, loss and gradient norm on
    # reference weights, with the batch's and weights' hashes; compared across backends by analysis/equivalence.py.
    equivalence: dict[str, Any] | None = None
    backend_settings: BackendSettings | None = None  # None: written before them, or the cell never finished fit
    threads: Threads
    host: HostInfo = Field(default_factory=HostInfo)
    monitor: dict[str, Any] | None = None
    limits: LimitsInfo | None = None
    energy: dict[str, Any] | None = None  # joules per epoch / per sample (orchestrator/measure/energy.py)
    cost: dict[str, Any] | None = None  # $ per epoch / per run from the machine's price (orchestrator/measure/cost.py)
    error: ErrorInfo | None = None
