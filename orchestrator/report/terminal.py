"""The summary table printed at the end of a run (rich)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from orchestrator.results import CellResult

_STATUS_STYLE = {"ok": "green", "failed": "red", "timeout": "red", "unsupported": "yellow", "skipped": "dim"}


def _num(value: float | None, fmt: str = "{:.2f}") -> str:
    return fmt.format(value) if value is not None else "-"


def summary_table(results: list[CellResult], title: str = "Results") -> Table:
    table = Table(title=title)
    for column, justify in (("environment", "left"), ("workload", "left"), ("profile", "left"),
                            ("status", "left"), ("params", "right"), ("data", "left"),
                            ("compile s", "right"), ("first epoch s", "right"), ("steady s/epoch", "right"),
                            ("test acc", "right"), ("note", "left")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for r in results:
        style = _STATUS_STYLE.get(r.status, "")
        note = r.reason or ""
        table.add_row(
            r.environment.name, r.workload.name, r.workload.profile, f"[{style}]{r.status}[/{style}]",
            f"{r.model.params:,}" if r.model.params else "-", r.data.source or "-",
            _num(r.timings.compile_s), _num(r.timings.first_epoch_s), _num(r.timings.steady_state_s),
            _num(r.metrics.test.get("accuracy"), "{:.4f}"), note[:80],
        )
    return table


def print_summary(results: list[CellResult], console: Console | None = None, title: str = "Results") -> None:
    (console or Console()).print(summary_table(results, title))
