"""Energy per result: joules per epoch and per sample, for the GPUs and the CPU packages.

- GPU, Volta and newer: NVML's total energy counter (`nvmlDeviceGetTotalEnergyConsumption`, millijoules since
  the driver loaded), read with every monitor sample; an epoch's joules are the counter's rise between the
  epoch's wall-clock start and end, interpolated between the samples around them. A counter that wraps
  (2**64 mJ) is unwrapped; one that goes back (a driver reload) continues from its last value; one that does
  not move for STALL_S seconds while the board draws power is "stalled", and those epochs fall back to power.
- GPU, older boards (the K80): the sampled power integrated over time (trapezoids), marked as an estimate.
- Invalid when a process outside the cell's process tree used the cell's GPU during the cell: the board's
  energy is then not the cell's alone.
- CPU packages: RAPL (`/sys/class/powercap/intel-rapl:N/energy_uj`, wrapping at `max_energy_range_uj`) where
  readable, else recorded as unavailable with the reason.

Epoch boundaries come from the harness's epoch events (`time` = wall clock at the epoch's end, `seconds` = its
length); the monitor's samples carry seconds since its own wall-clock start. Both are the host's wall clock.
"""

from __future__ import annotations

import math
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from orchestrator.analysis import stats

COUNTER_WRAP_MJ = 2**64
STALL_S = 2.0
MIN_POWER_W = 1.0  # below this a board is idle enough that a still counter is not called stalled
RAPL_ROOT = Path("/sys/class/powercap")

Interval = tuple[float, float]  # (start, end) in seconds since the monitor's start


# ------------------------------------------------------------------------------------------ arithmetic

def unwrap(values: Sequence[float], wrap: int) -> tuple[list[float], list[str]]:
    """A counter made monotone and relative to its first reading: a fall from the upper half of its range is a
    wrap (add `wrap`); any other fall is a reset (continue from the last value). NaN (no reading) stays NaN.
    Integer readings are mended in integer arithmetic (exact near 2**64). Notes say what was mended."""
    out: list[float] = []
    notes: list[str] = []
    offset = 0
    base: float | None = None
    previous: float | None = None
    for value in values:
        if isinstance(value, float) and math.isnan(value):
            out.append(math.nan)
            continue
        if previous is not None and value < previous:
            if previous > wrap / 2:
                offset += wrap
                notes.append("counter wrapped")
            else:
                offset += previous
                notes.append("counter went back (reset): continued from its last value")
        base = value if base is None else base
        out.append(float(value + offset - base))
        previous = value
    return out, notes


def interpolate(ts: Sequence[float], values: Sequence[float], t: float) -> float | None:
    """The value at time t, linear between the readings around it; None outside the readings."""
    points = [(x, v) for x, v in zip(ts, values) if not math.isnan(v)]
    if not points or t < points[0][0] or t > points[-1][0]:
        return None
    for (x0, v0), (x1, v1) in zip(points, points[1:]):
        if x0 <= t <= x1:
            return v0 if x1 == x0 else v0 + (v1 - v0) * (t - x0) / (x1 - x0)
    return points[-1][1]


def counter_joules(ts: Sequence[float], counter_mj: Sequence[float], span: Interval) -> float | None:
    """Joules between the span's ends from an energy counter in millijoules (already unwrapped)."""
    start, end = (interpolate(ts, counter_mj, t) for t in span)
    if start is None or end is None:
        return None
    return (end - start) / 1000.0


def stalled(ts: Sequence[float], counter_mj: Sequence[float], power_w: Sequence[float], span: Interval) -> bool:
    """Whether the counter stood still for more than STALL_S inside the span while the board drew power."""
    since: float | None = None
    last: float | None = None
    for t, value, watts in zip(ts, counter_mj, power_w):
        if t < span[0] or t > span[1] or math.isnan(value):
            continue
        drawing = math.isnan(watts) or watts >= MIN_POWER_W
        if last is not None and value == last and drawing:
            if since is not None and t - since > STALL_S:
                return True
        else:
            since = t
        last = value
    return False


def power_joules(ts: Sequence[float], power_w: Sequence[float], span: Interval) -> float | None:
    """Joules from sampled power integrated over the span (trapezoids; ends interpolated)."""
    start, end = span
    first, last = interpolate(ts, power_w, start), interpolate(ts, power_w, end)
    if first is None or last is None or end <= start:
        return None
    points = [(start, first)] + [(t, w) for t, w in zip(ts, power_w) if start < t < end and not math.isnan(w)]
    points.append((end, last))
    return sum((t1 - t0) * (w0 + w1) / 2 for (t0, w0), (t1, w1) in zip(points, points[1:]))


# ------------------------------------------------------------------------------------------------ RAPL

@dataclass(frozen=True)
class RaplZone:
    name: str
    energy_file: Path
    max_uj: float


def rapl_zones(root: Path = RAPL_ROOT) -> tuple[list[RaplZone], str | None]:
    """The CPU package zones whose counter can be read, or none and the reason."""
    if not root.is_dir():
        return [], f"{root} is not present (no RAPL powercap driver here, or a container or VM hides it)"
    zones: list[RaplZone] = []
    problems: list[str] = []
    for folder in sorted(root.glob("intel-rapl:*")):
        if folder.name.count(":") != 1:  # intel-rapl:0:0 and deeper are sub-zones (cores, dram) of a package
            continue
        try:
            name = (folder / "name").read_text().strip()
            int((folder / "energy_uj").read_text())
            max_uj = float((folder / "max_energy_range_uj").read_text())
        except PermissionError:
            problems.append(f"{folder / 'energy_uj'} is not readable (root only since Linux 5.10)")
            continue
        except (OSError, ValueError) as exc:
            problems.append(f"{folder}: {exc}")
            continue
        zones.append(RaplZone(name, folder / "energy_uj", max_uj))
    if zones:
        return zones, None
    return [], "; ".join(problems) or f"no intel-rapl:N package zone in {root}"


def read_rapl(zones: list[RaplZone]) -> list[float]:
    values = []
    for zone in zones:
        try:
            values.append(float(zone.energy_file.read_text()))
        except (OSError, ValueError):
            values.append(math.nan)
    return values


# ------------------------------------------------------------------------------------------ the series

@dataclass
class EnergySeries:
    """What the monitor keeps in memory for energy: sample times and, per GPU and RAPL zone, the readings."""

    gpus: int
    zones: list[RaplZone] = field(default_factory=list)
    rapl_reason: str | None = None
    t: array = field(default_factory=lambda: array("d"))
    counter_mj: list[list[float]] = field(default_factory=list)  # whole mJ as int (exact), NaN for none
    power_w: list[array] = field(default_factory=list)
    rapl_uj: list[array] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.counter_mj = [[] for _ in range(self.gpus)]
        self.power_w = [array("d") for _ in range(self.gpus)]
        self.rapl_uj = [array("d") for _ in self.zones]

    @classmethod
    def with_rapl(cls, gpus: int, root: Path = RAPL_ROOT) -> "EnergySeries":
        zones, reason = rapl_zones(root)
        return cls(gpus, zones, reason)

    def add(self, t: float, counters: Sequence[float | None], powers: Sequence[float | None]) -> None:
        self.t.append(t)
        for column, value in zip(self.counter_mj, counters):
            column.append(math.nan if value is None else int(value))
        for column, value in zip(self.power_w, powers):
            column.append(math.nan if value is None else float(value))
        for column, value in zip(self.rapl_uj, read_rapl(self.zones)):
            column.append(value)


# ------------------------------------------------------------------------------------------ per result

@dataclass
class GpuFacts:
    """What the monitor knows of one GPU beyond its readings."""

    index: int
    used_by_cell: bool
    other_pids: list[int]
    # Pids NVML lists that this PID namespace cannot see (a container, a sandbox): another process when the
    # cell's own process was seen on the GPU; otherwise whether they are the cell's is unknown.
    foreign_pids: list[int] = field(default_factory=list)


def epoch_spans(per_epoch: Sequence[Any], started_unix: float) -> list[Interval | None]:
    """Each epoch as (start, end) in the monitor's seconds, from its end time and length; None without a time."""
    spans: list[Interval | None] = []
    for epoch in per_epoch:
        end = getattr(epoch, "time", None)
        if end is None:
            spans.append(None)
            continue
        spans.append((end - epoch.seconds - started_unix, end - started_unix))
    return spans


def gpu_energy(series: EnergySeries, facts: list[GpuFacts], spans: list[Interval | None],
               samples_per_epoch: float | None) -> dict[str, Any]:
    """The cell's GPUs' joules per epoch (summed over the GPUs the cell used, else all it was given)."""
    chosen = [i for i, f in enumerate(facts) if f.used_by_cell] or list(range(len(facts)))
    ts = list(series.t)
    per_epoch: list[float | None] = []
    methods: set[str] = set()
    notes: list[str] = []
    counters = {}
    for i in chosen:
        counters[i], mended = unwrap(list(series.counter_mj[i]), COUNTER_WRAP_MJ)
        notes += [f"GPU {facts[i].index}: {n}" for n in sorted(set(mended))]
    for span in spans:
        total: float | None = 0.0
        for i in chosen:
            joules, method = _gpu_span(ts, counters[i], list(series.power_w[i]), span)
            if joules is None or total is None:
                total = None
                continue
            total += joules
            methods.add(method)
        per_epoch.append(total)
    whole = (ts[0], ts[-1]) if ts else None
    cell_j = None
    if whole:
        parts = [_gpu_span(ts, counters[i], list(series.power_w[i]), whole)[0] for i in chosen]
        cell_j = sum(p for p in parts if p is not None) if all(p is not None for p in parts) else None
    others = sorted({pid for i in chosen for pid in facts[i].other_pids}
                    | {pid for i in chosen if facts[i].used_by_cell for pid in facts[i].foreign_pids})
    unknown = sorted({pid for i in chosen if not facts[i].used_by_cell for pid in facts[i].foreign_pids})
    if "counter stalled" in methods:
        notes.append("the energy counter stalled: those epochs use integrated power (an estimate)")
    method = _method(methods)
    return {
        "available": True,
        "gpus": [facts[i].index for i in chosen],
        "method": method,
        "estimate": method != "counter",
        "valid": False if others else None if unknown else True,
        "invalid_reason": (f"other process(es) used the cell's GPU during the cell (pid {', '.join(map(str, others))}):"
                           " the board's energy is not the cell's alone") if others else
                          (f"unknown: NVML listed pid(s) {', '.join(map(str, unknown))} that this PID namespace cannot "
                           "see, and never the cell's own: whether the GPU was the cell's alone is not known")
                          if unknown else None,
        **_per_epoch_summary(per_epoch, samples_per_epoch),
        "cell_j": _round(cell_j),
        "notes": notes,
    }


def _gpu_span(ts: list[float], counter: list[float], power: list[float], span: Interval | None
              ) -> tuple[float | None, str]:
    if span is None:
        return None, "none"
    if any(not math.isnan(v) for v in counter) and len(counter) == len(ts):
        if not stalled(ts, counter, power, span):
            joules = counter_joules(ts, counter, span)
            if joules is not None:
                return joules, "counter"
        joules = power_joules(ts, power, span)
        return joules, "counter stalled"
    return power_joules(ts, power, span), "power_integrated"


def _method(methods: set[str]) -> str | None:
    if not methods:
        return None
    if methods == {"counter"}:
        return "counter"
    if methods == {"power_integrated"}:
        return "power_integrated"
    return "counter, power_integrated where the counter stalled"


def cpu_energy(series: EnergySeries, spans: list[Interval | None], samples_per_epoch: float | None
               ) -> dict[str, Any]:
    """The CPU packages' joules per epoch from RAPL (the whole machine's packages, not the cell's share)."""
    if not series.zones:
        return {"available": False, "reason": series.rapl_reason or "RAPL not read"}
    ts = list(series.t)
    counters = []
    notes: list[str] = []
    for zone, column in zip(series.zones, series.rapl_uj):
        unwrapped, mended = unwrap(list(column), int(zone.max_uj) + 1)
        counters.append(unwrapped)
        notes += [f"{zone.name}: {n}" for n in sorted(set(mended))]

    def joules(span: Interval | None) -> float | None:
        if span is None:
            return None
        parts = [counter_joules(ts, c, span) for c in counters]
        return sum(p for p in parts if p is not None) / 1000.0 if all(p is not None for p in parts) else None

    per_epoch = [joules(span) for span in spans]
    return {
        "available": True,
        "source": "rapl",
        "zones": [z.name for z in series.zones],
        "scope": "every CPU package of the machine (other processes included)",
        **_per_epoch_summary(per_epoch, samples_per_epoch),
        "cell_j": _round(joules((ts[0], ts[-1])) if ts else None),
        "notes": notes,
    }


def _per_epoch_summary(per_epoch: list[float | None], samples_per_epoch: float | None) -> dict[str, Any]:
    known = [j for j in per_epoch if j is not None]
    steady = stats.steady_state(known) if len(known) == len(per_epoch) else None
    return {
        "per_epoch_j": [_round(j) for j in per_epoch],
        "steady_j_per_epoch": _round(steady),
        "steady_j_per_sample": _round(steady / samples_per_epoch, 6) if steady and samples_per_epoch else None,
    }


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(float(value), digits)


def cell_energy(series: EnergySeries, facts: list[GpuFacts], per_epoch: Sequence[Any], started_unix: float,
                samples_per_epoch: float | None, no_gpu_reason: str | None = None) -> dict[str, Any]:
    """`CellResult.energy`: the GPUs' and the CPU packages' joules per epoch, steady state and per sample."""
    spans = epoch_spans(per_epoch, started_unix)
    gpu = (gpu_energy(series, facts, spans, samples_per_epoch) if facts
           else {"available": False, "reason": f"no GPU: {no_gpu_reason or 'none assigned'}"})
    return {"gpu": gpu, "cpu": cpu_energy(series, spans, samples_per_epoch), "samples_per_epoch": samples_per_epoch}
