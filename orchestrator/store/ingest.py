"""Runs into the store: the cells a run wrote (at its end, interrupted or not) and old run folders (`import`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from orchestrator.core.errors import StoreError
from orchestrator.results.io import load_cells
from orchestrator.rundir.instance import read_instance
from orchestrator.store.database import Store
from orchestrator.store.records import read_provenance, rows_of_run


@dataclass(frozen=True)
class Ingested:
    run_path: Path
    cells: int  # readable cell results in the folder
    added: int  # of them, new to the store (0 when the run was already there)
    rejected: int  # cell files that are not valid results (listed by `orchestrate run`/`report`)


def ingest_run(store: Store, run_path: Path) -> Ingested:
    """Index one run folder's valid cell results (idempotent: a second time adds nothing)."""
    run_path = Path(run_path).resolve()
    if not (run_path / "cells").is_dir():
        raise StoreError(f"{run_path}: not a run folder (no cells/ inside); give folders like results/RUN_ID")
    report = load_cells(run_path)
    if not report.results:
        return Ingested(run_path, 0, 0, len(report.rejected))
    run, rows = rows_of_run(report.results, read_provenance(run_path), str(run_path), read_instance(run_path))
    return Ingested(run_path, len(rows), store.add_run(run, rows), len(report.rejected))
