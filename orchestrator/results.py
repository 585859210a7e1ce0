"""The CellResult schema (documented in docs/results-schema.md), atomic writes, loading and merging.

A result file is written to a temporary name in the same directory, fsynced, then renamed: a crash at
any moment leaves either the old complete file or the new complete file, never a partial one.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from orchestrator.errors import ResultsError
from orchestrator.paths import inside, safe_name

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
    # A configuration (`<base>+<name>`, issue 18): its base environment and settings (jit_compile, mixed precision...).
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
    threads: Threads
    host: HostInfo = Field(default_factory=HostInfo)
    monitor: dict[str, Any] | None = None
    limits: LimitsInfo | None = None
    energy: dict[str, Any] | None = None  # joules per epoch / per sample (orchestrator/measure/energy.py)
    cost: dict[str, Any] | None = None  # $ per epoch / per run from the machine's price (orchestrator/cost.py)
    error: ErrorInfo | None = None


def write_json_atomic(path: Path, payload: dict[str, Any] | list[Any]) -> None:
    """Write JSON so that readers only ever see a complete file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(payload, fh, indent=2, sort_keys=False)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class RunDir:
    """The layout of one run: `<results-dir>/<run-id>/cells/<cell-id>.json` and `summary.json`."""

    def __init__(self, results_dir: Path, run_id: str) -> None:
        self.path = (Path(results_dir) / safe_name(run_id, "run id")).resolve()
        self.run_id = run_id

    @property
    def cells_dir(self) -> Path:
        return self.path / "cells"

    @property
    def logs_dir(self) -> Path:
        return self.path / "logs"

    @property
    def summary_path(self) -> Path:
        return self.path / "summary.json"

    def cell_path(self, cell_id: str) -> Path:
        return inside(self.cells_dir, self.cells_dir / f"{cell_id}.json", f"cell id {cell_id!r}")

    def ensure_writable(self) -> None:
        try:
            self.cells_dir.mkdir(parents=True, exist_ok=True)
            self.logs_dir.mkdir(parents=True, exist_ok=True)
            probe = self.path / ".write-probe"
            probe.write_text("ok")
            probe.unlink()
        except OSError as exc:
            raise ResultsError(
                f"results directory {self.path} is not writable ({exc.strerror}); "
                "choose another with --results-dir"
            ) from None

    def remove_temp_files(self) -> list[Path]:
        """Delete the temporary files of atomic writes cut short by a killed process (never a complete file)."""
        stale = [p for p in self.path.rglob(".*.tmp") if p.is_file()]
        for path in stale:
            path.unlink(missing_ok=True)
        return stale

    def write_cell(self, result: CellResult) -> Path:
        path = self.cell_path(result.cell_id)
        write_json_atomic(path, result.model_dump(mode="json"))
        return path


class LoadReport(BaseModel):
    results: list[CellResult]
    rejected: dict[str, str]


def load_cells(run_path: Path) -> LoadReport:
    """Every readable, schema-valid cell result of a run; the others listed with the reason."""
    results: list[CellResult] = []
    rejected: dict[str, str] = {}
    for path in sorted((Path(run_path) / "cells").glob("*.json")):
        try:
            results.append(read_cell(path))
        except ResultsError as exc:
            rejected[str(path)] = str(exc)
    return LoadReport(results=results, rejected=rejected)


def read_cell(path: Path) -> CellResult:
    try:
        raw = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise ResultsError(f"{path}: unreadable ({exc})") from None
    if not isinstance(raw, dict):
        raise ResultsError(f"{path}: not a JSON object")
    if raw.get("schema_version") != SCHEMA_VERSION:
        raise ResultsError(f"{path}: schema_version {raw.get('schema_version')!r}, expected {SCHEMA_VERSION}")
    try:
        return CellResult.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise ResultsError(f"{path}: does not match the CellResult schema at {loc}: {first['msg']}") from None


def write_summary(run_dir: RunDir) -> LoadReport:
    """Merge the run's cell files into summary.json (invalid files are reported, not merged)."""
    report = load_cells(run_dir.path)
    write_json_atomic(
        run_dir.summary_path,
        {
            "schema_version": SCHEMA_VERSION,
            "run_id": run_dir.run_id,
            "cells": [r.model_dump(mode="json") for r in report.results],
            "rejected": report.rejected,
        },
    )
    return report
