"""A run id used again: its finished results are kept (`--resume`), moved aside (`--fresh`), or the run is refused."""

from __future__ import annotations

from pathlib import Path

from orchestrator.core.errors import ConfigError
from orchestrator.rundir.layout import RunDir


class RunIdInUse(ConfigError):
    """The run id already has results and neither --resume nor --fresh was given."""


def existing_results(run_dir: RunDir) -> list[Path]:
    """The result files of a run (valid or not; temporary files of cut-short writes are not results)."""
    if not run_dir.cells_dir.is_dir():
        return []
    return sorted(p for p in run_dir.cells_dir.glob("*.json") if not p.name.startswith("."))


def aside_path(run_dir: RunDir) -> Path:
    """The first free `<run-id>.N` beside the run."""
    n = 1
    while (run_dir.path.parent / f"{run_dir.path.name}.{n}").exists():
        n += 1
    return run_dir.path.parent / f"{run_dir.path.name}.{n}"


def prepare_reuse(run_dir: RunDir, resume: bool, fresh: bool) -> Path | None:
    """Apply the reuse policy (call it while owning the run); return where --fresh moved earlier results to.

    - no results yet: the run starts (a folder left by a run that wrote no result is reused);
    - --resume: nothing moves; the scheduler keeps the valid ok results and runs the rest;
    - --fresh: the whole run folder is renamed to `<run-id>.N` (the first free N), never deleted;
    - neither: refused (exit 2), saying how many results exist and what each flag does.
    """
    if resume and fresh:
        raise ConfigError("--resume and --fresh contradict each other: give either --resume or --fresh")
    found = existing_results(run_dir)
    if fresh and run_dir.path.is_dir():
        target = aside_path(run_dir)
        run_dir.path.rename(target)
        return target
    if found and not resume:
        raise RunIdInUse(
            f"run {run_dir.run_id!r} already has {len(found)} result(s) in {run_dir.cells_dir}; nothing was run. "
            f"Add --resume to keep its valid ok results and run only the other cells, or --fresh to move the "
            f"earlier results aside to {aside_path(run_dir)} (nothing is deleted) and start over"
        )
    return None
