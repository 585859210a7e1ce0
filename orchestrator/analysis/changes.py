"""Change detection over a history: where a series of runs stepped, by how much, and what changed there.

A series is one environment x workload x profile on one host (never across hosts unless asked): one point per
run, each point the steady-state seconds per epoch of that run's repeats.

Two established methods, each confirmed by the repeats:
- Steps inside the history (asv's step detection, asv/step_detect.py): the run medians are fitted by a piecewise-
  constant function minimising the L1 distance plus a penalty per segment (the Potts problem, solved exactly by
  dynamic programming here). The penalty scales with a robust estimate of the run-to-run noise, so noise alone
  rarely pays for a new segment.
- The newest run (conbench's test): its median against the distribution of the earlier runs' medians (a z-score
  over the run-to-run noise, at least NEWEST_Z; with under 3 earlier runs that noise is unknown and the repeats'
  test below decides alone), then its repeats against those of the earlier runs since the last step.
A candidate is flagged only when the repeats after it differ from those before it significantly (the exact
two-sided rank-sum test at p <= alpha) and beyond the tie threshold, with the Hodges-Lehmann interval of the ratio
excluding 1 (verdicts.pair_test, the rule `orchestrate compare` uses). benchmarks/change_detection.py measures detection and
false alarms on synthetic series.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field

import numpy as np

from orchestrator.analysis.verdicts.pairs import PairTest, pair_test

PENALTY = 4.0  # segment penalty, in units of the run-to-run noise x ln(points) (benchmarks/change_detection.py)
WINDOW = 5  # runs on each side of a step whose repeats are compared
MIN_SEGMENT = 2  # runs; a step at the newest run is the newest-run test's
MAX_POINTS = 400  # the exact fit is O(n^2) medians: older points are left out
DEFAULT_ALPHA = 0.1  # 3 repeats against 3 reach no lower p (two-sided Mann-Whitney U)
DEFAULT_TIE = 0.05
NEWEST_Z = 2.5  # the newest run's distance from the earlier runs, in run-to-run noise (conbench's z-score)


@dataclass(frozen=True)
class Point:
    """One run of a series: its repeats' steady-state seconds per epoch and the versions it ran."""

    run_id: str
    time: str | None
    samples: list[float]
    versions: dict[str, str] = field(default_factory=dict)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)


@dataclass(frozen=True)
class Step:
    """A change from point `index` on (the first run after it): ratio after / before (above 1: slower)."""

    index: int
    run_id: str
    test: PairTest
    changed: list[str]
    method: str  # "step" (inside the history) or "newest" (the newest run against the earlier ones)

    @property
    def direction(self) -> str:
        return "slower" if (self.test.ratio or 1) > 1 else "faster"

    def describe(self, series: str) -> str:
        what = ", ".join(self.changed) if self.changed else "no version changed"
        return (f"{series}: {self.test.ratio:.2f}x [{self.test.low:.2f}, {self.test.high:.2f}] {self.direction} "
                f"from run {self.run_id}, {what} (p={self.test.p_value:.2g})")


def version_changes(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """'jax 0.9.2 to 0.10.2' for every version that differs ('added'/'removed' for the others)."""
    changes = []
    for name in sorted(set(before) | set(after)):
        a, b = before.get(name), after.get(name)
        if a == b:
            continue
        changes.append(f"{name} added {b}" if a is None else f"{name} removed {a}" if b is None else
                       f"{name} {a} to {b}")
    return changes


def noise_scale(values: list[float]) -> float:
    """Robust run-to-run noise: the median absolute difference of neighbours, as a normal sigma (one step
    among them barely moves it)."""
    if len(values) < 3:
        return 0.0
    diffs = np.abs(np.diff(np.asarray(values)))
    return float(np.median(diffs) / (0.6745 * math.sqrt(2)))


def segment(values: list[float], penalty: float, min_size: int = MIN_SEGMENT) -> list[int]:
    """Start indices (after 0) of the segments of the optimal L1 piecewise-constant fit with `penalty` per
    segment (exact optimal partitioning)."""
    y = np.asarray(values, dtype=float)
    n = len(y)
    best = [0.0] + [math.inf] * n
    start = [0] * (n + 1)
    for end in range(min_size, n + 1):
        for begin in range(0, end - min_size + 1):
            if math.isinf(best[begin]) or (0 < begin < min_size):
                continue
            part = y[begin:end]
            cost = best[begin] + penalty + float(np.abs(part - np.median(part)).sum())
            if cost < best[end]:
                best[end], start[end] = cost, begin
    cuts, end = [], n
    while end > 0:
        end = start[end]
        cuts.append(end)
    return sorted(c for c in cuts if c > 0)


def detect(points: list[Point], tie_threshold: float = DEFAULT_TIE, alpha: float = DEFAULT_ALPHA,
           penalty: float = PENALTY) -> list[Step]:
    """The confirmed steps of a series (oldest first); points without samples are left out."""
    points = [p for p in points if p.samples][-MAX_POINTS:]
    if len(points) < 2:
        return []
    medians = [p.median for p in points]
    sigma = noise_scale(medians)
    candidates: list[tuple[int, str]] = []
    if sigma > 0 and len(points) >= 2 * MIN_SEGMENT:
        gamma = penalty * sigma * math.log(len(points))
        candidates = [(cut, "step") for cut in segment(medians, gamma)]
    last_cut = candidates[-1][0] if candidates else 0
    if last_cut < len(points) - 1:
        candidates.append((len(points) - 1, "newest"))
    steps = []
    bounds = [c for c, _ in candidates] + [len(points)]
    previous = 0
    for (cut, method), following in zip(candidates, bounds[1:]):
        before = points[max(previous, cut - WINDOW):cut]
        after = points[cut:min(following, cut + WINDOW)]
        test = pair_test(_pool(before), _pool(after), tie_threshold, alpha)
        if method == "newest" and not _beyond_noise(medians, cut, previous):
            continue
        if test.verdict in ("slower", "faster"):
            steps.append(Step(cut, points[cut].run_id, test,
                              version_changes(points[cut - 1].versions, points[cut].versions), method))
            previous = cut
    return steps


def newest_test(points: list[Point], steps: list[Step], tie_threshold: float = DEFAULT_TIE,
                alpha: float = DEFAULT_ALPHA) -> PairTest | None:
    """The newest run's repeats against the earlier runs' since the last step (up to WINDOW runs): the interval
    history prints when nothing was flagged, so "no change" comes with how large a change it rules out."""
    points = [p for p in points if p.samples][-MAX_POINTS:]
    if len(points) < 2:
        return None
    since = max([s.index for s in steps if s.index < len(points) - 1], default=0)
    before = points[max(since, len(points) - 1 - WINDOW):-1]
    return pair_test(_pool(before), points[-1].samples, tie_threshold, alpha)


def at_version_changes(points: list[Point], tie_threshold: float = DEFAULT_TIE,
                       alpha: float = DEFAULT_ALPHA) -> list[tuple[int, list[str], PairTest]]:
    """Every run where a version changed, tested like a step (up to WINDOW runs each side, to the neighbouring
    version changes): what history says about an upgrade whether or not it was flagged."""
    points = [p for p in points if p.samples][-MAX_POINTS:]
    cuts = [i for i in range(1, len(points)) if version_changes(points[i - 1].versions, points[i].versions)]
    found = []
    for k, cut in enumerate(cuts):
        since = cuts[k - 1] if k else 0
        until = cuts[k + 1] if k + 1 < len(cuts) else len(points)
        before, after = points[max(since, cut - WINDOW):cut], points[cut:min(until, cut + WINDOW)]
        found.append((cut, version_changes(points[cut - 1].versions, points[cut].versions),
                      pair_test(_pool(before), _pool(after), tie_threshold, alpha)))
    return found


def _beyond_noise(medians: list[float], newest: int, since: int) -> bool:
    """Whether the newest run's median lies NEWEST_Z run-to-run noise scales from the earlier runs' median."""
    earlier = medians[since:newest]
    sigma = noise_scale(medians[:newest])
    if len(earlier) < 1 or sigma == 0.0:
        return True  # too few runs to know the noise: the repeats' test decides
    return abs(medians[newest] - statistics.median(earlier)) >= NEWEST_Z * sigma


def _pool(points: list[Point]) -> list[float]:
    return [s for p in points for s in p.samples]
