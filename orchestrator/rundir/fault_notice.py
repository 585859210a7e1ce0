"""What a run stopped by a fault tells its user: the cause, what was written, what was not, and the command that
resumes the run once the fault is fixed. The summary is rewritten from the result files on disk, so it stays
consistent with them; where it cannot be written, a stale one is removed rather than left to mislead."""

from __future__ import annotations

from rich.console import Console

from orchestrator.config.cell import Cell
from orchestrator.results.schema import CellResult
from orchestrator.rundir.layout import RunDir
from orchestrator.results.io import write_summary
from orchestrator.rundir.faults import EXIT_FAULT, RunFault


def stopped_by_fault(console: Console, fault: RunFault, run_dir: RunDir, written: list[CellResult],
                     kept: list[CellResult], unsaved: list[CellResult], not_run: list[Cell], command: str) -> int:
    """Print the account of a faulted run and return EXIT_FAULT."""
    say = lambda text, style=None: console.print(text, style=style, markup=False, highlight=False,  # noqa: E731
                                                 soft_wrap=True)
    say(f"error: the run was stopped: {fault.message}", "red")
    say(f"written: {len(written)} cell(s) in this attempt{_ids(written)}"
        + (f"; {len(kept)} kept from earlier attempts" if kept else ""))
    say(f"not written: {len(unsaved)} cell(s) ended but their results could not be saved{_ids(unsaved)}")
    say(f"not run: {len(not_run)} cell(s){_ids(not_run)}")
    say(_summary(run_dir))
    say(f"Nothing written is lost: the results on disk are complete and valid. Once fixed ({fault.fix}), "
        "continue the run with:", "yellow")
    say(command)
    return EXIT_FAULT


def _ids(items: list[CellResult] | list[Cell]) -> str:
    return (": " + ", ".join(item.cell_id for item in items)) if items else ""


def _summary(run_dir: RunDir) -> str:
    """Rewrite summary.json from the files on disk; where that fails, remove a stale one."""
    if not run_dir.path.is_dir():
        return "summary: not written (the run's folder is gone)"
    try:
        write_summary(run_dir)
        return f"summary: {run_dir.summary_path} (the results on disk)"
    except OSError as exc:
        try:
            run_dir.summary_path.unlink(missing_ok=True)
            stale = "removed the stale one"
        except OSError:
            stale = "the one there is from an earlier attempt"
        return f"summary: not written ({exc.strerror}); {stale}; `orchestrate report {run_dir.path}` rebuilds it"
