"""Energy and cost per result, as a table (terminal and HTML) and as a comparison between two runs.

One row per environment x workload x profile (repeats: the median of their steady-state values): s/epoch,
GPU joules per epoch and per sample with how they were measured (the NVML counter, or integrated power: an
estimate) and whether they are valid (no other process on the GPU), mean GPU power, CPU package joules per
epoch (RAPL) or why there are none, and the money per epoch and per run where a price was given.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from html import escape
from typing import Any, Callable, Iterable

from rich.table import Table

from orchestrator.results.schema import CellResult

Key = tuple[str, str, str]


@dataclass
class EnergyRow:
    environment: str
    workload: str
    profile: str
    repeats: int
    steady_s: float | None
    gpu_j_per_epoch: float | None
    gpu_j_per_sample: float | None
    gpu_method: str
    gpu_power_w: float | None
    cpu_j_per_epoch: float | None
    cpu_note: str
    cost_per_epoch: float | None
    cost_per_run: float | None
    currency: str

    @property
    def measured(self) -> bool:
        """Whether any energy or cost figure is known (else the row would be all dashes)."""
        return any(v is not None for v in (self.gpu_j_per_epoch, self.gpu_j_per_sample, self.gpu_power_w,
                                           self.cpu_j_per_epoch, self.cost_per_epoch, self.cost_per_run))

    @property
    def key(self) -> Key:
        return self.environment, self.workload, self.profile


def energy_rows(results: Iterable[CellResult]) -> list[EnergyRow]:
    """One row per environment x workload x profile, from the results that carry energy or cost."""
    groups: dict[Key, list[CellResult]] = {}
    for r in results:
        if r.status == "ok" and (r.energy or r.cost):
            groups.setdefault((r.environment.name, r.workload.name, r.workload.profile), []).append(r)
    rows = [_row(key, members) for key, members in groups.items()]
    return [row for row in rows if row.measured]


def unmeasured_note(results: Iterable[CellResult]) -> str | None:
    """Why a run has no energy or cost at all (one line instead of a table of dashes), else None."""
    ok = [r for r in results if r.status == "ok" and (r.energy or r.cost)]
    if not ok or energy_rows(ok):
        return None
    row = _row(("", "", ""), ok)
    return (f"energy and cost: none measured (GPU: {row.gpu_method}; CPU: {row.cpu_note}; cost: no price given, "
            "see --price-per-hour)")


def _row(key: Key, members: list[CellResult]) -> EnergyRow:
    gpu = [(r.energy or {}).get("gpu") or {} for r in members]
    cpu = [(r.energy or {}).get("cpu") or {} for r in members]
    costs = [r.cost or {} for r in members]
    powers = [g.get("power_mean_w") for r in members for g in (r.monitor or {}).get("gpus", [])
              if g.get("used_by_cell") or len((r.monitor or {}).get("gpus", [])) == 1]
    return EnergyRow(
        *key, repeats=len(members),
        steady_s=_median(r.timings.steady_state_s for r in members),
        gpu_j_per_epoch=_median(g.get("steady_j_per_epoch") for g in gpu),
        gpu_j_per_sample=_median(g.get("steady_j_per_sample") for g in gpu),
        gpu_method=_gpu_method(gpu),
        gpu_power_w=_median(powers),
        cpu_j_per_epoch=_median(c.get("steady_j_per_epoch") for c in cpu),
        cpu_note="RAPL" if any(c.get("available") for c in cpu) else _first(c.get("reason") for c in cpu) or "-",
        cost_per_epoch=_median(c.get("per_epoch") for c in costs),
        cost_per_run=_median(c.get("per_run") for c in costs),
        currency=_first(c.get("currency") for c in costs) or "",
    )


def _gpu_method(gpu: list[dict[str, Any]]) -> str:
    if not any(g.get("available") for g in gpu):
        return _first(g.get("reason") for g in gpu) or "no GPU"
    invalid = [g.get("invalid_reason") for g in gpu if g.get("valid") is False]
    methods = sorted({str(g.get("method")) for g in gpu if g.get("available")})
    text = ", ".join(methods) + (" (estimate)" if any(g.get("estimate") for g in gpu) else "")
    if invalid:
        return f"INVALID: {invalid[0]}"
    return text + (" (validity unknown: see the result's energy.gpu)" if any(g.get("valid") is None for g in gpu
                                                                          if g.get("available")) else "")


def _median(values: Iterable[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


def _first(values: Iterable[Any]) -> Any:
    return next((v for v in values if v), None)


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
    head = "".join(f"<th>{escape(h)}</th>" for h in HEADERS)
    body = "\n".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in _cells(r)) + "</tr>" for r in rows)
    return ('<h2 id="energy">Energy and cost per result</h2>\n<p>Steady state (epochs after the first; repeats: '
            "median). GPU joules from NVML's total energy counter, or power sampled and integrated where the GPU "
            "has no counter (an estimate); invalid when another process used the GPU during the cell. CPU: the "
            "machine's packages through RAPL. Cost: the price per hour given to <code>orchestrate run</code>."
            f'</p>\n<table id="energy-table"><thead><tr>{head}</tr></thead><tbody>\n{body}\n</tbody></table>')


def comparison_table(a: list[CellResult], b: list[CellResult], name_a: str, name_b: str) -> Table | None:
    """GPU joules per epoch and cost per epoch, B / A, for the groups both runs measured."""
    rows_a = {r.key: r for r in energy_rows(a)}
    pairs = [(rows_a[r.key], r) for r in energy_rows(b) if r.key in rows_a]
    if not pairs:
        return None
    table = Table(title=f"Energy and cost: {name_b} / {name_a}")
    for header in ("environment", "workload", "profile", f"GPU J/epoch {name_a}", f"GPU J/epoch {name_b}", "B/A",
                   f"cost/epoch {name_a}", f"cost/epoch {name_b}", "B/A", "note"):
        table.add_column(header, overflow="fold")
    for ra, rb in pairs:
        notes = [f"{name}: {row.gpu_method}" for name, row in ((name_a, ra), (name_b, rb))
                 if row.gpu_method.startswith("INVALID") or "estimate" in row.gpu_method]
        table.add_row(ra.environment, ra.workload, ra.profile, _fmt(ra.gpu_j_per_epoch), _fmt(rb.gpu_j_per_epoch),
                      _ratio(ra.gpu_j_per_epoch, rb.gpu_j_per_epoch), _fmt(ra.cost_per_epoch),
                      _fmt(rb.cost_per_epoch), _ratio(ra.cost_per_epoch, rb.cost_per_epoch), "; ".join(notes))
    return table


def _ratio(a: float | None, b: float | None) -> str:
    return f"{b / a:.3f}" if a and b is not None else "-"
