"""Energy and cost per result, aggregated and judged: one row per environment x workload x profile (repeats: the
median of their steady-state values), whether its GPU energy is valid (no other process on the GPU in any repeat)
or an estimate (integrated power), and two runs' rows side by side with their ratios B / A.

The figures themselves are measured by orchestrator/measure/energy.py; report/energy.py only renders these rows.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any, Iterable

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
    gpu_method: str  # how the GPU joules were measured, "INVALID: <why>" when a repeat's are not valid
    gpu_power_w: float | None
    cpu_j_per_epoch: float | None
    cpu_note: str
    cost_per_epoch: float | None
    cost_per_run: float | None
    currency: str
    gpu_valid: bool | None = None  # False: some repeat's GPU was shared; None: unknown or no GPU energy
    gpu_estimate: bool = False  # integrated power, not NVML's energy counter

    @property
    def measured(self) -> bool:
        """Whether any energy or cost figure is known (else the row would be all dashes)."""
        return any(v is not None for v in (self.gpu_j_per_epoch, self.gpu_j_per_sample, self.gpu_power_w,
                                           self.cpu_j_per_epoch, self.cost_per_epoch, self.cost_per_run))

    @property
    def caveat(self) -> bool:
        """Whether its GPU joules need a word of warning beside a comparison: invalid, or an estimate."""
        return self.gpu_valid is False or self.gpu_estimate

    @property
    def key(self) -> Key:
        return self.environment, self.workload, self.profile


@dataclass(frozen=True)
class EnergyPair:
    """The same environment x workload x profile in run A and run B."""

    a: EnergyRow
    b: EnergyRow

    @property
    def gpu_ratio(self) -> float | None:
        """GPU joules per epoch, B / A."""
        return _ratio(self.a.gpu_j_per_epoch, self.b.gpu_j_per_epoch)

    @property
    def cost_ratio(self) -> float | None:
        """Cost per epoch, B / A."""
        return _ratio(self.a.cost_per_epoch, self.b.cost_per_epoch)


def energy_rows(results: Iterable[CellResult]) -> list[EnergyRow]:
    """One row per environment x workload x profile, from the results that carry energy or cost."""
    groups: dict[Key, list[CellResult]] = {}
    for r in results:
        if r.status == "ok" and (r.energy or r.cost):
            groups.setdefault((r.environment.name, r.workload.name, r.workload.profile), []).append(r)
    rows = [energy_row(key, members) for key, members in groups.items()]
    return [row for row in rows if row.measured]


def unmeasured(results: Iterable[CellResult]) -> EnergyRow | None:
    """All ok results with energy or cost pooled into one row, when none of their rows measured anything (why
    there is nothing: the row's gpu_method and cpu_note); None when something was measured or nothing recorded."""
    ok = [r for r in results if r.status == "ok" and (r.energy or r.cost)]
    if not ok or energy_rows(ok):
        return None
    return energy_row(("", "", ""), ok)


def energy_pairs(a: list[CellResult], b: list[CellResult]) -> list[EnergyPair]:
    """The rows both runs measured, in run B's order."""
    rows_a = {r.key: r for r in energy_rows(a)}
    return [EnergyPair(rows_a[r.key], r) for r in energy_rows(b) if r.key in rows_a]


def energy_row(key: Key, members: list[CellResult]) -> EnergyRow:
    """The repeats `members` of one environment x workload x profile as one row (medians)."""
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
        gpu_valid=_gpu_valid(gpu),
        gpu_estimate=_gpu_estimate(gpu),
    )


def _gpu_valid(gpu: list[dict[str, Any]]) -> bool | None:
    """False when any repeat's GPU energy is invalid, True when every measured one is known valid; None when
    unknown or nothing was measured."""
    available = [g for g in gpu if g.get("available")]
    if not available:
        return None
    if any(g.get("valid") is False for g in gpu):
        return False
    return True if all(g.get("valid") is not None for g in available) else None


def _gpu_estimate(gpu: list[dict[str, Any]]) -> bool:
    """Whether the GPU joules (where any were measured) come from integrated power rather than the counter."""
    return any(g.get("available") for g in gpu) and any(g.get("estimate") for g in gpu)


def _gpu_method(gpu: list[dict[str, Any]]) -> str:
    if not any(g.get("available") for g in gpu):
        return _first(g.get("reason") for g in gpu) or "no GPU"
    valid = _gpu_valid(gpu)
    if valid is False:
        return f"INVALID: {_first_invalid(gpu)}"
    methods = sorted({str(g.get("method")) for g in gpu if g.get("available")})
    text = ", ".join(methods) + (" (estimate)" if _gpu_estimate(gpu) else "")
    return text + ("" if valid else " (validity unknown: see the result's energy.gpu)")


def _first_invalid(gpu: list[dict[str, Any]]) -> Any:
    return next(g.get("invalid_reason") for g in gpu if g.get("valid") is False)


def _ratio(a: float | None, b: float | None) -> float | None:
    return b / a if a and b is not None else None


def _median(values: Iterable[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


def _first(values: Iterable[Any]) -> Any:
    return next((v for v in values if v), None)
