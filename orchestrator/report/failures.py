"""A failed cell of a user's model, told plainly: the cell, what went wrong, and the traceback's last lines."""

from __future__ import annotations

from rich.console import Console

from orchestrator.results.schema import CellResult

TRACEBACK_LINES = 8


CHAINED = "The above exception was the direct cause"
HEADER = "Traceback (most recent call last)"


def traceback_tail(log_tail: str, lines: int = TRACEBACK_LINES) -> list[str]:
    """The last lines of the user's own traceback: the harness's error event puts it first in log_tail, and the
    user's exception comes before the harness's UserModelError that names it."""
    start = log_tail.find(HEADER)
    text = log_tail[start:] if start >= 0 else log_tail
    ends = [i for i in (text.find(CHAINED), text.find(HEADER, len(HEADER))) if i > 0]
    text = text[:min(ends)] if ends else text
    kept = [line for line in text.rstrip().splitlines() if line.strip()]
    return kept[-lines:]


def print_failures(results: list[CellResult], workloads: set[str], console: Console) -> None:
    """For each failed cell of the given workloads: its id, its error and its traceback's last lines."""
    for r in results:
        if r.workload.name not in workloads or r.status not in ("failed", "timeout") or r.error is None:
            continue
        console.print(f"{r.cell_id} ({r.environment.name}) {r.status}: {r.error.type}: {r.error.message}",
                      style="red", markup=False, highlight=False, soft_wrap=True)
        for line in traceback_tail(r.error.log_tail):
            console.print(f"    {line}", markup=False, highlight=False, soft_wrap=True)
