"""Statistics over measured times.

- One cell: the first epoch (compile, warm-up) apart; steady state as the median of the remaining epochs.
- Repeats of the same environment x workload x profile (each a fresh process and model): the median of
  their steady states with a 95% confidence interval, and a noise flag when the spread is wide.
  With one repeat, the interval comes from that repeat's steady epochs instead (its `basis` says so).
- Time to accuracy: the first epoch whose validation accuracy reaches a target, and the training time to it.
- Two runs: the ratio of medians with an interval, flagged only when the interval excludes 1.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from typing import Iterable, Literal

from orchestrator.results import CellResult, EpochMetrics

NOISE_CV = 0.05  # coefficient of variation above which a measurement is flagged noisy

# Two-sided 95% Student t quantiles by degrees of freedom (n - 1), for the small-n interval.
_T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571}


def steady_state(epochs_s: list[float]) -> float | None:
    """Median seconds of the epochs after the first (which carries compile and warm-up)."""
    rest = epochs_s[1:]
    if rest:
        return statistics.median(rest)
    return None


def samples_per_second(samples: int | None, seconds: float | None) -> float | None:
    if not samples or not seconds:
        return None
    return samples / seconds


@dataclass(frozen=True)
class Estimate:
    """A median with its 95% confidence interval (None when one value cannot give one)."""

    median: float
    low: float | None
    high: float | None
    n: int
    basis: Literal["repeats", "epochs"]
    method: str
    cv: float | None
    noisy: bool

    @property
    def has_interval(self) -> bool:
        return self.low is not None and self.high is not None

    def describe(self, digits: int = 3) -> str:
        text = f"{self.median:.{digits}g}"
        if self.has_interval:
            text += f" [{self.low:.{digits}g}, {self.high:.{digits}g}]"
        return text


def median_ci(values: list[float]) -> tuple[float | None, float | None, str]:
    """A 95% interval for the median: order statistics from n >= 6, Student t around the mean below."""
    n = len(values)
    if n < 2:
        return None, None, "none (one value)"
    ordered = sorted(values)
    if n >= 6:
        k = _order_statistic_rank(n)
        return ordered[k - 1], ordered[n - k], "order statistics (binomial)"
    mean = statistics.fmean(values)
    half = _T95[n - 1] * statistics.stdev(values) / math.sqrt(n)
    return max(0.0, mean - half), mean + half, "student t"


def _order_statistic_rank(n: int) -> int:
    """The largest k with P(Binomial(n, 1/2) <= k - 1) <= 2.5%: (x_k, x_{n-k+1}) covers the median at >= 95%."""
    k, cumulative = 1, 0.0
    while True:
        cumulative += math.comb(n, k - 1) / 2**n
        if cumulative > 0.025:
            return max(1, k - 1)
        k += 1


def estimate(values: Iterable[float], basis: Literal["repeats", "epochs"],
             noise_cv: float = NOISE_CV) -> Estimate | None:
    data = [float(v) for v in values if v is not None and math.isfinite(v)]
    if not data:
        return None
    low, high, method = median_ci(data)
    cv = statistics.stdev(data) / statistics.fmean(data) if len(data) > 1 and statistics.fmean(data) else None
    return Estimate(median=statistics.median(data), low=low, high=high, n=len(data), basis=basis,
                    method=method, cv=cv, noisy=cv is not None and cv > noise_cv)


@dataclass(frozen=True)
class TimeToAccuracy:
    target: float
    epoch: int | None  # None: not reached
    seconds: float | None  # training seconds up to and including that epoch


def time_to_accuracy(per_epoch: list[EpochMetrics], target: float) -> TimeToAccuracy:
    """The first epoch whose validation accuracy (else training accuracy) reaches `target`."""
    elapsed = 0.0
    for epoch in sorted(per_epoch, key=lambda e: e.epoch):
        elapsed += epoch.seconds
        accuracy = epoch.val_accuracy if epoch.val_accuracy is not None else epoch.accuracy
        if accuracy is not None and accuracy >= target:
            return TimeToAccuracy(target, epoch.epoch, elapsed)
    return TimeToAccuracy(target, None, None)


@dataclass
class Group:
    """The repeats of one environment x workload x profile, aggregated."""

    environment: str
    workload: str
    profile: str
    results: list[CellResult]
    steady: Estimate | None = None
    first_epoch: Estimate | None = None
    samples_per_s: float | None = None
    test_accuracy: float | None = None
    tta: list[TimeToAccuracy] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.environment, self.workload, self.profile)

    @property
    def ok(self) -> list[CellResult]:
        return [r for r in self.results if r.status == "ok"]

    @property
    def backend(self) -> str:
        return self.results[0].environment.backend

    @property
    def status(self) -> str:
        """ok when every repeat is ok; otherwise the statuses that occurred, e.g. 'ok 1/2, failed 1'."""
        counts: dict[str, int] = {}
        for r in self.results:
            counts[r.status] = counts.get(r.status, 0) + 1
        if set(counts) == {"ok"}:
            return "ok"
        return ", ".join(f"{s} {c}" for s, c in counts.items())

    @property
    def tta_median_s(self) -> float | None:
        reached = [t.seconds for t in self.tta if t.seconds is not None]
        return statistics.median(reached) if reached and len(reached) == len(self.tta) else None


def group_results(results: list[CellResult], targets: dict[str, float] | None = None,
                  noise_cv: float = NOISE_CV) -> list[Group]:
    """Group cells by environment x workload x profile (in first-seen order) and aggregate their repeats."""
    groups: dict[tuple[str, str, str], Group] = {}
    for r in results:
        key = (r.environment.name, r.workload.name, r.workload.profile)
        groups.setdefault(key, Group(*key, results=[])).results.append(r)
    for group in groups.values():
        group.results.sort(key=lambda r: r.workload.repeat)
        _aggregate(group, (targets or {}).get(group.workload), noise_cv)
    return list(groups.values())


def _aggregate(group: Group, target: float | None, noise_cv: float) -> None:
    ok = group.ok
    steady = [r.timings.steady_state_s for r in ok if r.timings.steady_state_s is not None]
    if len(steady) >= 2:
        group.steady = estimate(steady, "repeats", noise_cv)
    elif len(steady) == 1:  # one repeat: the interval comes from its steady epochs
        only = next(r for r in ok if r.timings.steady_state_s is not None)
        group.steady = estimate(only.timings.epochs_s[1:], "epochs", noise_cv)
    group.first_epoch = estimate([r.timings.first_epoch_s for r in ok if r.timings.first_epoch_s is not None],
                                 "repeats", noise_cv)
    group.samples_per_s = _median([r.timings.samples_per_s for r in ok])
    group.test_accuracy = _median([r.metrics.test.get("accuracy") for r in ok])
    if target is not None:
        group.tta = [time_to_accuracy(r.metrics.per_epoch, target) for r in ok]


def _median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


@dataclass(frozen=True)
class Comparison:
    """Run B against run A for one group: ratio of steady-state medians (B / A; above 1 means B is slower)."""

    key: tuple[str, str, str]
    a: Estimate | None
    b: Estimate | None
    ratio: float | None
    low: float | None
    high: float | None
    verdict: Literal["slower", "faster", "no significant change", "not comparable"]


def compare_estimates(key: tuple[str, str, str], a: Estimate | None, b: Estimate | None) -> Comparison:
    """Ratio B/A with a conservative interval [B.low / A.high, B.high / A.low].

    A change is significant only when that interval excludes 1, i.e. when the two 95% intervals do not
    overlap; without an interval on either side the ratio is shown but nothing is flagged.
    """
    if a is None or b is None or a.median <= 0:
        return Comparison(key, a, b, None, None, None, "not comparable")
    ratio = b.median / a.median
    if not (a.has_interval and b.has_interval):
        return Comparison(key, a, b, ratio, None, None, "no significant change")
    low = b.low / a.high if a.high else math.inf  # type: ignore[operator]
    high = b.high / a.low if a.low else math.inf  # type: ignore[operator]
    verdict: Literal["slower", "faster", "no significant change"] = (
        "slower" if low > 1 else "faster" if high < 1 else "no significant change")
    return Comparison(key, a, b, ratio, low, high, verdict)


def compare_groups(a: list[Group], b: list[Group]) -> tuple[list[Comparison], list[tuple[str, str, str]],
                                                            list[tuple[str, str, str]]]:
    """Comparisons for the groups both runs share, then the keys only in A and only in B."""
    by_key_b = {g.key: g for g in b}
    keys_a = {g.key for g in a}
    shared = [compare_estimates(g.key, g.steady, by_key_b[g.key].steady) for g in a if g.key in by_key_b]
    only_a = [g.key for g in a if g.key not in by_key_b]
    only_b = [g.key for g in b if g.key not in keys_a]
    return shared, only_a, only_b
