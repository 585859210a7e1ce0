"""The cell spec the host writes for the harness (its keys are workloads/protocol.py's), and where a cell's spec, events and log live."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from orchestrator.config.cell import Cell
from orchestrator.config.load import LoadedMatrix
from orchestrator.environments.prepared import Prepared


def make_spec(cell: Cell, prepared: Prepared, loaded: LoadedMatrix, data_dir: str | None,
              cache_dir: str | None) -> dict[str, Any]:
    """The cell spec (JSON) read by workloads/harness.py. Paths are as the harness will see them."""
    env = prepared.environment
    workload = loaded.matrix.workloads[cell.workload]
    script = loaded.script_path(cell.workload)
    return {
        "cell_id": cell.cell_id,
        "workload": cell.workload,
        "dataset": workload.dataset,
        "backend": env.backend,
        "keras_version": env.keras,
        "api": env.api,
        "epochs": cell.epochs,
        "batch_size": cell.batch_size,
        "train_samples": cell.train_samples,
        "test_samples": cell.test_samples,
        "steps_per_epoch": cell.steps_per_epoch,
        "seed": cell.seed,
        "threads": cell.threads,
        "image_data_format": env.image_data_format,
        "capabilities": list(env.capabilities),
        "data": {"source": cell.data, "dir": data_dir, "cache_dir": cache_dir},
        "workload_dirs": [str(loaded.workloads_dir)] if loaded.workloads_dir else [],
        "script": str(script) if script else None,
        "options": dict(cell.options),  # the workload's settings (model size...), the profile's overrides applied  # a user's model file, loaded by path (docs/your-model.md)
    }


def spec_paths(logs_dir: Path, cell: Cell) -> tuple[Path, Path, Path]:
    """Where a cell's spec, events and log live inside the run's logs folder."""
    stem = logs_dir / cell.cell_id
    return (stem.with_name(stem.name + ".spec.json"), stem.with_name(stem.name + ".events.jsonl"),
            stem.with_name(stem.name + ".log"))
