"""Total training time for a length the user states, and the lengths at which the order of two backends changes.

Each backend's time for a run of N training steps is modelled as a one-off cost plus N steady steps:

- one-off: the compile time where the harness recorded one (Keras 1/2's train function build) plus the first
  epoch's excess over a steady epoch (tracing, XLA or torch.compile, warm-up); a first epoch no slower than the
  steady ones adds nothing. Import, data loading and building the model are left out: they are paid once per
  process whatever the length, before training, and an import's time depends mostly on the file cache.
- per step: the steady s/epoch (median of the epochs after the first) over the steps of an epoch (the profile's
  `steps_per_epoch`, else the samples of an epoch over the batch size); fit ms/step where the epochs do not give
  the steps. With both from the epochs, the prediction for the measured epochs is the measured training time.

Both are taken per repeat and summarised as the median with its interval (analysis/stats.py: order statistics,
the range of the repeats below 6). A crossover of two backends is where their lines meet:
N* = (one-off_B - one-off_A) / (step_A - step_B), from the medians; its range puts each cost at the ends of its
interval (the cheaper start at its most expensive, the cheaper step at its least...), so it is as wide as the
four intervals allow, not a confidence interval of its own. Pure functions; analysis/verdicts decides validity.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from itertools import combinations

from orchestrator.analysis.stats import Estimate, estimate
from orchestrator.analysis.verdicts.rows import WorkloadVerdict
from orchestrator.results.schema import CellResult


@dataclass(frozen=True)
class Length:
    """A training length the user states: steps, or epochs (converted with the workload's steps per epoch)."""

    steps: int | None = None
    epochs: float | None = None

    @property
    def given(self) -> bool:
        return self.steps is not None or self.epochs is not None

    def steps_for(self, steps_per_epoch: int | None) -> float | None:
        """The length in steps (None: epochs asked for on a workload whose steps per epoch are unknown)."""
        if self.steps is not None:
            return float(self.steps)
        if self.epochs is not None and steps_per_epoch:
            return self.epochs * steps_per_epoch
        return None

    def describe(self) -> str:
        return f"{self.steps:,} steps" if self.steps is not None else f"{self.epochs:g} epochs"


@dataclass(frozen=True)
class BackendCost:
    """One backend's one-off cost (s) and steady cost per step (s), each over its repeats."""

    environment: str
    one_off: Estimate
    per_step: Estimate
    steps_per_epoch: int | None
    per_step_from: str  # "epochs" (steady s/epoch / steps per epoch) or "fit ms/step"
    startup_s: float | None = None  # import, median over repeats: shown, not counted

    def total(self, steps: float) -> float:
        """Predicted seconds for `steps` training steps (medians)."""
        return self.one_off.median + steps * self.per_step.median


@dataclass(frozen=True)
class Crossover:
    """`late` (the cheaper step) overtakes `early` (the cheaper start) after about `steps` steps.

    low / high: the range the costs' intervals allow (high None: the steps' intervals overlap, so the order may
    never change; both None: one repeat, no interval)."""

    early: str
    late: str
    steps: float
    low: float | None
    high: float | None
    steps_per_epoch: int | None = None
    coverage: float | None = None  # the lowest coverage of the four intervals the range rests on


@dataclass(frozen=True)
class Unchanged:
    """A pair whose order is the same at every length: `faster` has the smaller (or equal) one-off and step."""

    faster: str
    slower: str
    equal_steps: bool = False


@dataclass
class BreakEven:
    """The break-even of one workload x profile: the valid backends' costs and every pair's crossover."""

    workload: str
    profile: str
    costs: list[BackendCost]
    crossovers: list[Crossover] = field(default_factory=list)
    unchanged: list[Unchanged] = field(default_factory=list)
    missing: dict[str, str] = field(default_factory=dict)  # valid backend -> why it has no costs

    @property
    def steps_per_epoch(self) -> int | None:
        return next((c.steps_per_epoch for c in self.costs if c.steps_per_epoch), None)

    def totals(self, length: Length) -> list[tuple[str, float]] | None:
        """(environment, predicted seconds) fastest first for `length`; None when it cannot be put in steps."""
        steps = length.steps_for(self.steps_per_epoch)
        if steps is None:
            return None
        return sorted(((c.environment, c.total(steps)) for c in self.costs), key=lambda item: item[1])


def steps_per_epoch(result: CellResult) -> int | None:
    """The training steps of one epoch: the profile's `steps_per_epoch`, else the samples of an epoch (samples/s
    times the steady s/epoch it was computed from) over the batch size; None when neither is recorded."""
    if result.workload.steps_per_epoch:
        return result.workload.steps_per_epoch
    rate, steady = result.timings.samples_per_s, result.timings.steady_state_s
    if not rate or not steady or result.workload.batch_size < 1:
        return None
    return max(1, math.ceil(round(rate * steady) / result.workload.batch_size))


def repeat_costs(result: CellResult) -> tuple[float, float, int | None, str] | None:
    """(one-off s, s per step, steps per epoch, where the step came from) of one ok repeat; None without a steady
    state or a way to count its steps."""
    t = result.timings
    if result.status != "ok" or t.first_epoch_s is None or not t.steady_state_s or t.steady_state_s <= 0:
        return None
    one_off = (t.compile_s or 0.0) + max(0.0, t.first_epoch_s - t.steady_state_s)
    steps = steps_per_epoch(result)
    if steps:
        return one_off, t.steady_state_s / steps, steps, "epochs"
    if t.fit_ms_per_step:
        return one_off, t.fit_ms_per_step / 1000.0, None, "fit ms/step"
    return None


def backend_cost(environment: str, results: list[CellResult]) -> BackendCost | str:
    """The backend's costs over its repeats, or why there are none."""
    per_repeat = [c for c in (repeat_costs(r) for r in results) if c is not None]
    if not per_repeat:
        return "no repeat with a steady state and a step count (one epoch, or no ok repeat)"
    one_off, per_step = estimate(c[0] for c in per_repeat), estimate(c[1] for c in per_repeat)
    assert one_off is not None and per_step is not None
    counts = [c[2] for c in per_repeat if c[2]]
    imports = [r.timings.import_s for r in results if r.status == "ok" and r.timings.import_s is not None]
    return BackendCost(environment, one_off, per_step, max(set(counts), key=counts.count) if counts else None,
                       per_repeat[0][3], statistics.median(imports) if imports else None)


def crossover(a: BackendCost, b: BackendCost) -> Crossover | Unchanged:
    """Where two backends' predicted totals meet at a positive length, or the one that is faster at every length."""
    if a.one_off.median > b.one_off.median or (a.one_off.median == b.one_off.median
                                               and a.per_step.median > b.per_step.median):
        a, b = b, a  # a: the cheaper (or equal) start
    start_gap = b.one_off.median - a.one_off.median
    step_gap = a.per_step.median - b.per_step.median
    if step_gap <= 0:  # a starts no later and steps no slower
        return Unchanged(a.environment, b.environment, equal_steps=step_gap == 0)
    low, high = _range(a, b)
    coverages = [e.coverage for e in (a.one_off, b.one_off, a.per_step, b.per_step) if e.coverage is not None]
    return Crossover(a.environment, b.environment, start_gap / step_gap, low, high,
                     a.steps_per_epoch or b.steps_per_epoch, min(coverages) if low is not None and coverages else None)


def _range(early: BackendCost, late: BackendCost) -> tuple[float | None, float | None]:
    """The crossover with each cost at the end of its interval that moves it most: earliest with the smallest
    start gap over the largest step gap, latest the other way (None above: the step gap may be 0 or reversed)."""
    ends = (early.one_off, late.one_off, early.per_step, late.per_step)
    if not all(e.has_interval for e in ends):
        return None, None
    start_low = late.one_off.low - early.one_off.high  # type: ignore[operator]
    start_high = late.one_off.high - early.one_off.low  # type: ignore[operator]
    step_low = early.per_step.low - late.per_step.high  # type: ignore[operator]
    step_high = early.per_step.high - late.per_step.low  # type: ignore[operator]
    low = max(0.0, start_low) / step_high if step_high > 0 else None
    high = start_high / step_low if step_low > 0 and start_high > 0 else None
    return (0.0 if low is None else low), high


def break_even(verdict: WorkloadVerdict) -> BreakEven:
    """The costs of the workload's valid backends and every pair's crossover (or unchanged order)."""
    result = BreakEven(verdict.workload, verdict.profile, [])
    for row in verdict.rows:
        if not row.validity.valid:
            continue
        cost = backend_cost(row.environment, row.group.results)
        if isinstance(cost, str):
            result.missing[row.environment] = cost
        else:
            result.costs.append(cost)
    for a, b in combinations(result.costs, 2):
        found = crossover(a, b)
        if isinstance(found, Crossover):
            result.crossovers.append(found)
        else:
            result.unchanged.append(found)
    result.crossovers.sort(key=lambda c: c.steps)
    return result


def break_evens(verdicts: list[WorkloadVerdict]) -> list[BreakEven]:
    """One break-even per workload x profile (training verdicts) with a valid backend."""
    found = [break_even(v) for v in verdicts if getattr(v, "phase", "train") == "train"]
    return [b for b in found if b.costs or b.missing]
