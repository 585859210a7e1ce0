"""Energy and cost per result, rendered: a table for the terminal and the HTML report, and the comparison of two
runs.

One row per environment x workload x profile (repeats: the median of their steady-state values), as
orchestrator/analysis/energy.py aggregates and judges them: s/epoch, GPU joules per epoch and per sample with how
they were measured (the NVML counter, or integrated power: an estimate) and whether they are valid (no other
process on the GPU), mean GPU power, CPU package joules per epoch (RAPL) or why there are none, and the money per
epoch and per run where a price was given.
"""

from __future__ import annotations

from typing import Callable, Iterable

from rich.table import Table

from orchestrator.analysis.energy import EnergyRow, energy_pairs, energy_rows, unmeasured
from orchestrator.report.html_table import html_table
from orchestrator.results.schema import CellResult

def unmeasured_note(results: Iterable[CellResult]) -> str | None:
    """Why a run has no energy or cost at all (one line instead of a table of dashes), else None."""
    row = unmeasured(results)
    if row is None:
        return None
    return (f"energy and cost: none measured (GPU: {row.gpu_method}; CPU: {row.cpu_note}; cost: no price given, "
            "see --price-per-hour)")


def _fmt(value: float | None, fmt: str = "{:.4g}") -> str:
    return "-" if value is None else fmt.format(value)


HEADERS = ["environment", "workload", "profile", "repeats", "steady s/epoch", "GPU J/epoch", "GPU J/sample",
           "GPU energy from", "GPU mean W", "CPU J/epoch", "CPU energy from", "cost/epoch", "cost/run"]


def _cells(row: EnergyRow) -> list[str]:
    money: Callable[[float | None], str] = lambda v: "-" if v is None else f"{v:.4g} {row.currency}"  # noqa: E731
    return [row.environment, row.workload, row.profile, str(row.repeats), _fmt(row.steady_s),
            _fmt(row.gpu_j_per_epoch), _fmt(row.gpu_j_per_sample), row.gpu_method, _fmt(row.gpu_power_w, "{:.0f}"),
            _fmt(row.cpu_j_per_epoch), row.cpu_note, money(row.cost_per_epoch), money(row.cost_per_run)]


def energy_table(results: list[CellResult], title: str = "Energy and cost per result") -> Table | None:
    rows = energy_rows(results)
    if not rows:
        return None
    table = Table(title=title)
    for header in HEADERS:
        table.add_column(header, overflow="fold")
    for row in rows:
        table.add_row(*_cells(row))
    return table


def html_section(results: list[CellResult]) -> str:
    """The report's energy and cost section ("" when no result carries energy or cost)."""
    rows = energy_rows(results)
    if not rows:
        return ""
    return ('<h2 id="energy">Energy and cost per result</h2>\n<p>Steady state (epochs after the first; repeats: '
            "median). GPU joules from NVML's total energy counter, or power sampled and integrated where the GPU "
            "has no counter (an estimate); invalid when another process used the GPU during the cell. CPU: the "
            "machine's packages through RAPL. Cost: the price per hour given to <code>orchestrate run</code>."
            "</p>\n" + html_table(HEADERS, [_cells(r) for r in rows], table_id="energy-table"))


def comparison_table(a: list[CellResult], b: list[CellResult], name_a: str, name_b: str) -> Table | None:
    """GPU joules per epoch and cost per epoch, B / A, for the groups both runs measured."""
    pairs = energy_pairs(a, b)
    if not pairs:
        return None
    table = Table(title=f"Energy and cost: {name_b} / {name_a}")
    for header in ("environment", "workload", "profile", f"GPU J/epoch {name_a}", f"GPU J/epoch {name_b}", "B/A",
                   f"cost/epoch {name_a}", f"cost/epoch {name_b}", "B/A", "note"):
        table.add_column(header, overflow="fold")
    for pair in pairs:
        ra, rb = pair.a, pair.b
        notes = [f"{name}: {row.gpu_method}" for name, row in ((name_a, ra), (name_b, rb)) if row.caveat]
        table.add_row(ra.environment, ra.workload, ra.profile, _fmt(ra.gpu_j_per_epoch), _fmt(rb.gpu_j_per_epoch),
                      _fmt(pair.gpu_ratio, "{:.3f}"), _fmt(ra.cost_per_epoch), _fmt(rb.cost_per_epoch),
                      _fmt(pair.cost_ratio, "{:.3f}"), "; ".join(notes))
    return table
