"""Resume: keep the valid ok results of an earlier attempt at the same run whose parameters are unchanged, and run
the rest."""

from __future__ import annotations

from dataclasses import dataclass

from orchestrator.config.cell import Cell
from orchestrator.results.io import load_cells
from orchestrator.results.schema import CellResult
from orchestrator.rundir.layout import RunDir

# ---------------------------------------------------------------- resume

@dataclass
class ResumePlan:
    """What a resumed run does: the cells still to run, the ok results it keeps, and why others rerun."""

    to_run: list[Cell]
    kept: list[CellResult]
    rerun: dict[str, str]
    rejected: dict[str, str]


def resume_plan(cells: list[Cell], run_dir: RunDir) -> ResumePlan:
    """Skip cells whose result in `run_dir` is readable, schema-valid, ok and made with the same parameters."""
    report = load_cells(run_dir.path)
    by_id = {r.cell_id: r for r in report.results}
    to_run, kept, rerun = [], [], {}
    for cell in cells:
        previous = by_id.get(cell.cell_id)
        if previous is None:
            rejected = str(run_dir.cell_path(cell.cell_id)) in report.rejected
            continue_reason = "its result file is unreadable or invalid (ignored)" if rejected else None
        elif previous.status != "ok":
            continue_reason = f"its last result is {previous.status}"
        else:
            continue_reason = _parameters_changed(cell, previous)
        if previous is not None and continue_reason is None:
            kept.append(previous)
            continue
        if continue_reason:
            rerun[cell.cell_id] = continue_reason
        to_run.append(cell)
    return ResumePlan(to_run=to_run, kept=kept, rerun=rerun, rejected=report.rejected)


def _parameters_changed(cell: Cell, result: CellResult) -> str | None:
    w = result.workload
    now = {"epochs": cell.epochs, "batch_size": cell.batch_size, "train_samples": cell.train_samples,
           "test_samples": cell.test_samples, "steps_per_epoch": cell.steps_per_epoch, "seed": cell.seed}
    changed = [k for k, v in now.items() if getattr(w, k) != v]
    if result.data.source and result.data.source != cell.data:
        changed.append("data")
    return f"its parameters changed since ({', '.join(changed)})" if changed else None
