"""Verdicts: per workload, which valid backend is fastest, by how much, and whether the difference is real.

- `pair_test`: two samples of repeats (one steady state per repeat, each a fresh process): the ratio of their
  medians with a bootstrap 95% interval, and a two-sided Mann-Whitney U test. The verdict is `faster` or
  `slower` only when the test's p is at most `alpha`, the interval excludes 1 and the ratio is beyond the tie
  threshold (5% by default); `tie` when the whole interval lies within the threshold; otherwise
  `no clear difference`. One repeat on either side gives no interval and no verdict.
- `check_validity`: validity before speed. A backend whose loss went NaN, whose test accuracy is at chance or far
  below the other backends' on the same workload and profile is excluded from "fastest", with the reason.
- `workload_verdicts`: per workload x profile, every backend's ratio to the reference environment (the matrix's
  `reference`, by default the article's TensorFlow, `tensorflow1`), the fastest valid backend and its margin over
  the runner-up.
- `ranking` and `performance_profile`: across workloads, the geometric mean of the ratios to the reference, and
  the Dolan-More performance profile (the share of workloads on which a backend is within a factor tau of the
  fastest valid one), as MLCommons AlgoPerf scores submissions.
"""

from __future__ import annotations

import math
import statistics
import warnings
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from scipy import stats as sps

from orchestrator.analysis.stats import Group

TIE_THRESHOLD = 0.05  # a difference under 5% is never called faster or slower
ALPHA = 0.05  # significance level of the rank test (p <= alpha)
DEFAULT_REFERENCE = "tensorflow1"  # the article's TensorFlow environment
BOOTSTRAP_RESAMPLES = 4999
CHANCE = {"mnist": 0.1, "cifar10": 0.1, "babi": 1 / 6}  # QA1 answers are one of six places
CHANCE_FACTOR = 1.5  # test accuracy below chance x 1.5 counts as "at chance"
ACCURACY_GAP = 0.10  # test accuracy this far (absolute) below the other backends' median is "far below"

Verdict = Literal["faster", "slower", "tie", "no clear difference", "one repeat: no verdict", "not comparable"]


@dataclass(frozen=True)
class Settings:
    """How verdicts are made; `orchestrate run` takes them from the matrix, `report` from its flags."""

    reference: str | None = None  # None: tensorflow1 where present, else the first environment of the run
    tie_threshold: float = TIE_THRESHOLD
    alpha: float = ALPHA


@dataclass(frozen=True)
class PairTest:
    """Sample B against sample A: ratio = median(B) / median(A), below 1 means B is faster."""

    n_a: int
    n_b: int
    ratio: float | None
    low: float | None
    high: float | None
    p_value: float | None
    verdict: Verdict

    @property
    def has_interval(self) -> bool:
        return self.low is not None and self.high is not None

    def describe(self) -> str:
        """'0.812 [0.78, 0.85]', or '0.812 (one repeat: no interval)'."""
        if self.ratio is None:
            return "-"
        if not self.has_interval:
            return f"{self.ratio:.3g} (one repeat: no interval)"
        return f"{self.ratio:.3g} [{self.low:.3g}, {self.high:.3g}]"

    def describe_p(self) -> str:
        return "-" if self.p_value is None else f"{self.p_value:.3g}"


def pair_test(a: list[float], b: list[float], tie_threshold: float = TIE_THRESHOLD,
              alpha: float = ALPHA) -> PairTest:
    """B's repeats against A's: ratio of medians, bootstrap 95% interval, two-sided Mann-Whitney U."""
    a = [v for v in a if math.isfinite(v) and v > 0]
    b = [v for v in b if math.isfinite(v) and v > 0]
    if not a or not b:
        return PairTest(len(a), len(b), None, None, None, None, "not comparable")
    ratio = statistics.median(b) / statistics.median(a)
    if len(a) < 2 or len(b) < 2:
        return PairTest(len(a), len(b), ratio, None, None, None, "one repeat: no verdict")
    low, high = ratio_interval(a, b)
    p_value = float(sps.mannwhitneyu(b, a, alternative="two-sided").pvalue)
    significant = p_value <= alpha
    verdict: Verdict = "no clear difference"
    if significant and high < 1 and ratio <= 1 - tie_threshold:
        verdict = "faster"
    elif significant and low > 1 and ratio >= 1 + tie_threshold:
        verdict = "slower"
    elif 1 - tie_threshold <= low and high <= 1 + tie_threshold:
        verdict = "tie"
    return PairTest(len(a), len(b), ratio, low, high, p_value, verdict)


def ratio_interval(a: list[float], b: list[float], confidence: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of median(B) / median(A), resampling each side's repeats independently
    (seeded: the same samples always give the same interval)."""

    def ratio_of_medians(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
        return np.median(y, axis=axis) / np.median(x, axis=axis)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # identical samples: a degenerate distribution, the interval is the point
        result = sps.bootstrap((np.asarray(a), np.asarray(b)), ratio_of_medians, vectorized=True, paired=False,
                               confidence_level=confidence, n_resamples=BOOTSTRAP_RESAMPLES,
                               method="percentile", rng=np.random.default_rng(0))
    low, high = float(result.confidence_interval.low), float(result.confidence_interval.high)
    ratio = statistics.median(b) / statistics.median(a)
    if not (math.isfinite(low) and math.isfinite(high)):
        return ratio, ratio
    return min(low, ratio), max(high, ratio)


# ---------------------------------------------------------------------------------------------------- validity


@dataclass(frozen=True)
class Validity:
    reasons: tuple[str, ...] = ()

    @property
    def valid(self) -> bool:
        return not self.reasons

    def describe(self) -> str:
        return "valid" if self.valid else "; ".join(self.reasons)


def check_validity(group: Group, others: list[Group]) -> Validity:
    """Why this backend's result on the workload cannot count (empty when it can). `others`: the other
    backends on the same workload and profile."""
    if not group.ok:
        return Validity((f"no ok repeat ({group.status})",))
    if not group.steady_samples:
        return Validity(("no steady state (fewer than 2 epochs)",))
    reasons = []
    nan = _nan_loss(group)
    if nan:
        reasons.append(nan)
    accuracy = group.test_accuracy
    chance = CHANCE.get(group.ok[0].data.dataset or "")
    if accuracy is not None and chance is not None and accuracy < chance * CHANCE_FACTOR:
        reasons.append(f"test accuracy {accuracy:.3f} is at chance (chance {chance:.3f})")
    peers = [g.test_accuracy for g in others if g.test_accuracy is not None and g.ok]
    if accuracy is not None and peers and accuracy < statistics.median(peers) - ACCURACY_GAP:
        reasons.append(f"test accuracy {accuracy:.3f} is far below the other backends' "
                       f"{statistics.median(peers):.3f} (median; gap over {ACCURACY_GAP:.2f})")
    return Validity(tuple(reasons))


def _nan_loss(group: Group) -> str | None:
    for r in group.ok:
        for e in r.metrics.per_epoch:
            for name in ("loss", "val_loss"):
                value = getattr(e, name)
                if value is not None and not math.isfinite(value):
                    return f"{name} went NaN (repeat {r.workload.repeat}, epoch {e.epoch})"
        loss = r.metrics.test.get("loss")
        if loss is not None and not math.isfinite(loss):
            return f"test loss is NaN (repeat {r.workload.repeat})"
    return None


# --------------------------------------------------------------------------------------------- per workload


@dataclass
class BackendRow:
    group: Group
    validity: Validity
    vs_reference: PairTest | None  # None for the reference itself

    @property
    def environment(self) -> str:
        return self.group.environment

    @property
    def median(self) -> float | None:
        return self.group.steady.median if self.group.steady else None


@dataclass
class WorkloadVerdict:
    workload: str
    profile: str
    reference: str
    rows: list[BackendRow]  # valid backends by median time, then the excluded ones
    settings: Settings
    fastest: BackendRow | None = None
    runner_up: BackendRow | None = None
    margin: PairTest | None = None  # the runner-up against the fastest: ratio above 1 is the fastest's lead

    @property
    def key(self) -> tuple[str, str]:
        return (self.workload, self.profile)

    def row(self, environment: str) -> BackendRow | None:
        return next((r for r in self.rows if r.environment == environment), None)

    @property
    def excluded(self) -> list[BackendRow]:
        return [r for r in self.rows if not r.validity.valid]

    def statement(self, short: bool = False) -> str:
        """One sentence: the fastest valid backend and how sure that is (`short`: without the numbers, which a
        table shows beside it)."""
        if self.fastest is None:
            return "no valid backend with a steady state"
        name = self.fastest.environment
        if self.runner_up is None or self.margin is None:
            return f"{name}: the only valid backend"
        other = self.runner_up.environment
        lead = self.margin
        threshold = f"{self.settings.tie_threshold:.0%}"
        if lead.verdict == "slower" and lead.ratio is not None:
            if short:
                return f"{name} fastest: {other} takes {lead.ratio:.2f}x as long"
            return (f"{name} fastest: {other} takes {lead.ratio:.2f}x its time "
                    f"[{lead.low:.2f}, {lead.high:.2f}], p={lead.describe_p()}")
        if lead.verdict == "tie":
            return f"{name} and {other} tie (within {threshold})"
        if lead.verdict == "one repeat: no verdict":
            return f"{name} fastest by median, one repeat: no verdict over {other}"
        if short:
            return f"{name} fastest by median, not clearly ahead of {other}"
        return f"{name} fastest by median, not clearly ahead of {other} ({lead.describe()}, p={lead.describe_p()})"


def choose_reference(environments: list[str], settings: Settings) -> str:
    for candidate in (settings.reference, DEFAULT_REFERENCE):
        if candidate and candidate in environments:
            return candidate
    return environments[0]


def workload_verdicts(groups: list[Group], settings: Settings = Settings()) -> list[WorkloadVerdict]:
    """One verdict per workload x profile, in first-seen order."""
    keys = list(dict.fromkeys((g.workload, g.profile) for g in groups))
    return [_workload_verdict(w, p, [g for g in groups if (g.workload, g.profile) == (w, p)], settings)
            for w, p in keys]


def _workload_verdict(workload: str, profile: str, groups: list[Group], settings: Settings) -> WorkloadVerdict:
    reference = choose_reference([g.environment for g in groups], settings)
    ref_group = next(g for g in groups if g.environment == reference)
    rows = []
    for g in groups:
        validity = check_validity(g, [o for o in groups if o is not g])
        vs = None if g is ref_group else pair_test(ref_group.steady_samples, g.steady_samples,
                                                   settings.tie_threshold, settings.alpha)
        rows.append(BackendRow(g, validity, vs))
    valid = sorted((r for r in rows if r.validity.valid and r.median is not None), key=lambda r: r.median or 0)
    rows = valid + [r for r in rows if r not in valid]
    verdict = WorkloadVerdict(workload, profile, reference, rows, settings)
    if valid:
        verdict.fastest = valid[0]
    if len(valid) > 1:
        verdict.runner_up = valid[1]
        verdict.margin = pair_test(valid[0].group.steady_samples, valid[1].group.steady_samples,
                                   settings.tie_threshold, settings.alpha)
    return verdict


# ------------------------------------------------------------------------------------------- across workloads


@dataclass(frozen=True)
class Rank:
    environment: str
    backend: str
    geomean: float  # geometric mean of the ratios to the reference (below 1: faster than the reference)
    workloads: int  # how many workloads it is over
    fastest_on: int  # workloads where it is the fastest valid backend


def ranking(verdicts: list[WorkloadVerdict]) -> list[Rank]:
    """Backends by the geometric mean of their ratios to the reference over the workloads where both are valid."""
    ratios: dict[str, list[float]] = {}
    backends: dict[str, str] = {}
    wins: dict[str, int] = {}
    for v in verdicts:
        ref = v.row(v.reference)
        if ref is None or not ref.validity.valid or ref.median is None:
            continue
        for row in v.rows:
            if not row.validity.valid or row.median is None:
                continue
            backends[row.environment] = row.group.backend
            ratio = 1.0 if row.vs_reference is None else row.vs_reference.ratio
            if ratio:
                ratios.setdefault(row.environment, []).append(ratio)
        if v.fastest is not None:
            wins[v.fastest.environment] = wins.get(v.fastest.environment, 0) + 1
    ranks = [Rank(env, backends[env], math.exp(statistics.fmean(math.log(r) for r in rs)), len(rs),
                  wins.get(env, 0)) for env, rs in ratios.items()]
    return sorted(ranks, key=lambda r: r.geomean)


@dataclass(frozen=True)
class ProfileCurve:
    environment: str
    backend: str
    factors: list[float] = field(default_factory=list)  # per workload: time / fastest valid time (inf: invalid)

    def share_within(self, tau: float) -> float:
        """rho(tau): the share of workloads on which this backend is within a factor tau of the fastest."""
        return sum(1 for f in self.factors if f <= tau) / len(self.factors) if self.factors else 0.0


def performance_profile(verdicts: list[WorkloadVerdict]) -> list[ProfileCurve]:
    """Dolan-More: per workload the ratio of each backend's median time to the fastest valid one's; a backend
    that is invalid or missing on a workload gets infinity there (it never solves it)."""
    environments = list(dict.fromkeys(r.environment for v in verdicts for r in v.rows))
    backends = {r.environment: r.group.backend for v in verdicts for r in v.rows}
    curves = {env: ProfileCurve(env, backends[env]) for env in environments}
    for v in verdicts:
        if v.fastest is None or not v.fastest.median:
            continue
        best = v.fastest.median
        for env in environments:
            row = v.row(env)
            ok = row is not None and row.validity.valid and row.median is not None
            curves[env].factors.append(row.median / best if ok and row and row.median else math.inf)
    return list(curves.values())


# ------------------------------------------------------------------------------------------------ two runs


@dataclass(frozen=True)
class RunComparison:
    """One environment x workload x profile of run B against run A (ratio B / A; above 1: B is slower)."""

    key: tuple[str, str, str]
    a: Group
    b: Group
    test: PairTest


def compare_runs(a: list[Group], b: list[Group], settings: Settings = Settings()) -> tuple[
        list[RunComparison], list[tuple[str, str, str]], list[tuple[str, str, str]]]:
    """Comparisons for the groups both runs share (by the repeats' steady states), then the keys only in A and
    only in B."""
    by_key_b = {g.key: g for g in b}
    keys_a = {g.key for g in a}
    shared = [RunComparison(g.key, g, by_key_b[g.key], pair_test(g.steady_samples, by_key_b[g.key].steady_samples,
                                                                settings.tie_threshold, settings.alpha))
              for g in a if g.key in by_key_b]
    return shared, [g.key for g in a if g.key not in by_key_b], [g.key for g in b if g.key not in keys_a]
