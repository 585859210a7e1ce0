"""The cell spec the host writes for the harness (its keys are workloads/protocol.py's), and where a cell's spec,
events and log live."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from orchestrator.config.cell import Cell
from orchestrator.config.load import LoadedMatrix
from orchestrator.core.protocol import DataSpec, Spec
from orchestrator.environments.prepared import Prepared


def make_spec(cell: Cell, prepared: Prepared, loaded: LoadedMatrix, data_dir: str | None,
              cache_dir: str | None) -> dict[str, Any]:
    """The cell spec (JSON) read by workloads/harness.py. Paths are as the harness will see them."""
    env = prepared.environment
    workload = loaded.matrix.workloads[cell.workload]
    script = loaded.script_path(cell.workload)
    return {
        Spec.CELL_ID: cell.cell_id,
        Spec.WORKLOAD: cell.workload,
        Spec.DATASET: workload.dataset,
        Spec.BACKEND: env.backend,
        Spec.KERAS_VERSION: env.keras,
        Spec.API: env.api,
        Spec.EPOCHS: cell.epochs,
        Spec.BATCH_SIZE: cell.batch_size,
        Spec.TRAIN_SAMPLES: cell.train_samples,
        Spec.TEST_SAMPLES: cell.test_samples,
        Spec.STEPS_PER_EPOCH: cell.steps_per_epoch,
        Spec.SEED: cell.seed,
        Spec.THREADS: cell.threads,
        Spec.IMAGE_DATA_FORMAT: env.image_data_format,
        Spec.CAPABILITIES: list(env.capabilities),
        Spec.DATA: {DataSpec.SOURCE: cell.data, DataSpec.DIR: data_dir, DataSpec.CACHE_DIR: cache_dir},
        Spec.WORKLOAD_DIRS: [str(loaded.workloads_dir)] if loaded.workloads_dir else [],
        Spec.SCRIPT: str(script) if script else None,  # a user's model file, loaded by path (docs/your-model.md)
        Spec.OPTIONS: dict(cell.options),  # the workload's settings (model size...), the profile's overrides applied
        # The equivalence check compares repeat 0 across backends (its seed, hence its weights, is theirs too);
        # later repeats skip it (1.6-1.9 s a cell on JAX) and time the same fit after the same warm-up epoch.
        Spec.CHECK_EQUIVALENCE: cell.repeat == 0,
        Spec.PHASES: list(loaded.matrix.profiles[cell.profile].judge),  # unjudged inference is not run
    }


def spec_paths(logs_dir: Path, cell: Cell) -> tuple[Path, Path, Path]:
    """Where a cell's spec, events and log live inside the run's logs folder."""
    stem = logs_dir / cell.cell_id
    return (stem.with_name(stem.name + ".spec.json"), stem.with_name(stem.name + ".events.jsonl"),
            stem.with_name(stem.name + ".log"))
