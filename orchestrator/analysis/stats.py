"""Statistics over measured times.

- One cell (one process): the first epoch (compile, warm-up) apart; its steady state is the median of the
  epochs after the first.
- Repeats of one environment x workload x profile (each a fresh process and model, interleaved with the other
  environments by matrix.expand): the median of their steady states with a distribution-free interval for the
  median from the repeats (order statistics; 95% from 6 repeats, below that the range of the repeats with its
  coverage stated). Never from the spread of epochs inside one process: one repeat gives no interval.
- Time to accuracy: the first epoch whose validation accuracy reaches a target, and the training time to it.
- Two runs (`orchestrate compare`): per group, the repeats of B against those of A by verdicts.pair_test.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from typing import Iterable, Literal

from orchestrator.results.schema import CellResult, EpochMetrics

NOISE_CV = 0.05  # coefficient of variation above which a measurement is flagged noisy
CONFIDENCE = 0.95
ONE_REPEAT = "one repeat: no interval"


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
    """The median of repeats with an interval for it (None with one repeat), and its coverage."""

    median: float
    low: float | None
    high: float | None
    n: int
    basis: Literal["repeats"]
    method: str
    cv: float | None
    noisy: bool
    coverage: float | None = None  # the interval's confidence level, e.g. 0.95; 0.75 for the range of 3 repeats

    @property
    def has_interval(self) -> bool:
        return self.low is not None and self.high is not None

    def describe(self, digits: int = 3) -> str:
        """'1.23 [1.1, 1.4]', '1.23 [1.1, 1.4] 75%' below 95% coverage, '1.23 (one repeat: no interval)'."""
        text = f"{self.median:.{digits}g}"
        if self.has_interval:
            text += f" [{self.low:.{digits}g}, {self.high:.{digits}g}]"
            if self.coverage is not None and self.coverage < CONFIDENCE:
                text += f" {self.coverage:.0%}"
        elif self.n == 1:
            text += f" ({ONE_REPEAT})"
        return text


def median_ci(values: list[float]) -> tuple[float | None, float | None, str, float | None]:
    """A distribution-free interval for the median: (x_(k), x_(n-k+1)) with the largest k whose coverage
    1 - 2 P(Binomial(n, 1/2) <= k - 1) is at least 95% (from n = 6); below 6 values the range, whose coverage
    (1 - 2 / 2^n: 50%, 75%, 88%, 94% for 2 to 5) is returned with it. One value: no interval."""
    n = len(values)
    if n < 2:
        return None, None, ONE_REPEAT, None
    ordered = sorted(values)
    k = _order_statistic_rank(n)
    coverage = 1 - 2 * sum(math.comb(n, i) for i in range(k)) / 2**n
    method = "order statistics (binomial)" if coverage >= CONFIDENCE else "range of the repeats"
    return ordered[k - 1], ordered[n - k], method, coverage


def _order_statistic_rank(n: int) -> int:
    """The largest k with P(Binomial(n, 1/2) <= k - 1) <= 2.5%: (x_k, x_{n-k+1}) covers the median at >= 95%.
    1 (the range) when no k reaches 95% (n <= 5)."""
    k, cumulative = 1, 0.0
    while True:
        cumulative += math.comb(n, k - 1) / 2**n
        if cumulative > (1 - CONFIDENCE) / 2:
            return max(1, k - 1)
        k += 1


def estimate(values: Iterable[float], basis: Literal["repeats"] = "repeats",
             noise_cv: float = NOISE_CV) -> Estimate | None:
    data = [float(v) for v in values if v is not None and math.isfinite(v)]
    if not data:
        return None
    low, high, method, coverage = median_ci(data)
    cv = statistics.stdev(data) / statistics.fmean(data) if len(data) > 1 and statistics.fmean(data) else None
    return Estimate(median=statistics.median(data), low=low, high=high, n=len(data), basis=basis,
                    method=method, cv=cv, noisy=cv is not None and cv > noise_cv, coverage=coverage)


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
    fit_ms_per_step: float | None = None  # keras-benchmarks' measures, median over ok repeats (None: not recorded)
    predict_ms_per_step: float | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.environment, self.workload, self.profile)

    @property
    def ok(self) -> list[CellResult]:
        return [r for r in self.results if r.status == "ok"]

    @property
    def steady_samples(self) -> list[float]:
        """One steady state per ok repeat (the samples every interval and rank test is made from)."""
        return [r.timings.steady_state_s for r in self.ok
                if r.timings.steady_state_s is not None and math.isfinite(r.timings.steady_state_s)
                and r.timings.steady_state_s > 0]  # 0 s is no measurement (check_validity says so)

    @property
    def backend(self) -> str:
        return self.results[0].environment.backend

    @property
    def synthetic(self) -> bool:
        """Its ok repeats ran on generated data (accuracy there says nothing about training)."""
        return bool(self.ok) and all(r.data.source == "synthetic" for r in self.ok)

    @property
    def configuration_base(self) -> str | None:
        """A configuration's (`<base>+<name>`) base environment, the run it is judged against; None otherwise."""
        configuration = self.results[0].environment.configuration if self.results else None
        return str(configuration["base"]) if configuration and configuration.get("base") else None

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
    group.steady = estimate(group.steady_samples, "repeats", noise_cv)  # one repeat: no interval
    group.first_epoch = estimate([r.timings.first_epoch_s for r in ok if r.timings.first_epoch_s is not None],
                                 "repeats", noise_cv)
    group.samples_per_s = _median([r.timings.samples_per_s for r in ok])
    group.test_accuracy = _median([r.metrics.test.get("accuracy") for r in ok])
    group.fit_ms_per_step = _median([r.timings.fit_ms_per_step for r in ok])
    group.predict_ms_per_step = _median([r.timings.predict_ms_per_step for r in ok])
    if target is not None:
        group.tta = [time_to_accuracy(r.metrics.per_epoch, target) for r in ok]


def _median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


