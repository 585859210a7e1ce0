"""Verdicts: per workload, which valid backend is fastest, by how much, and whether the difference is real.

- `pair_test`: two samples of repeats (one steady state per repeat, each a fresh process), on log times: the
  Hodges-Lehmann ratio (the median of the n*m ratios b_j / a_i) with its distribution-free interval from the
  exact Mann-Whitney distribution, labelled with the level it achieves (90% at 3 against 3, 97% at 4 against 4,
  95-96% from 5), and the two-sided rank-sum test from its exact permutation distribution (ties: midranks).
  With a sequential design (`Settings.looks`), the p is spent over the looks (analysis/sequential.py).
- `decide`: `faster` / `slower` only when the family-adjusted p is at most `alpha` and |log ratio| is at least
  log(1 + tie threshold) (symmetric: 1.05 and 1/1.05 alike); `tie` when the whole interval lies within
  [1/(1 + t), 1 + t] and its level is at least 1 - 2 alpha (an equivalence test at alpha: 2 against 2, whose
  interval is a 67% one, never ties); otherwise `no clear difference`. One repeat on either side gives no interval and no verdict.
- The family: every decision a report makes (each backend against the reference, the fastest against the
  runner-up, the article's claims, over every workload) is adjusted together by Holm (analysis/family.py), so the
  chance of any false "faster"/"slower" in the report is at most alpha.
- `check_validity`: validity before speed. A backend whose loss went NaN, whose test accuracy is at chance or far
  below the other backends' on the same workload and profile (a configuration's, `<base>+<name>`: far below its
  base's, the float32 default run), or whose steady state is 0 s, is excluded from "fastest", with the reason. On
  synthetic data accuracy means nothing: only a finite loss is asked, and the verdict says "speed only". A profile
  declared `validity: loss` (random-weight models trained too briefly to leave chance, as keras-benchmarks times
  them) is judged on training loss instead: it must fall from the first epoch to the last and end within
  `LOSS_GAP` of the other backends'; test accuracy is reported, not judged.
- `workload_verdicts`: per workload x profile, every backend's ratio to the reference environment (the matrix's
  `reference`, by default the article's TensorFlow, `tensorflow1`; on a workload it did not run, such as today's
  models, TensorFlow under Keras 3, `keras3-tensorflow`, as keras-benchmarks' ratios are), the fastest valid
  backend and its margin over the runner-up.
- `ranking` and `performance_profile`: across workloads, the geometric mean of the ratios to the reference (the
  backends valid on every workload ranked first, over the same workloads), and the Dolan-More performance
  profile (the share of workloads on which a backend is within a factor tau of the fastest valid one), as
  MLCommons AlgoPerf scores submissions.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
from dataclasses import dataclass, field
from typing import Literal

from orchestrator.analysis.family import holm
from orchestrator.analysis.ranks import CONFIDENCE, exact_p, shift_interval
from orchestrator.analysis.sequential import Design, PairState, sequential_p
from orchestrator.analysis.stats import Group

TIE_THRESHOLD = 0.05  # a difference under 5% (either way, on the log scale) is never called faster or slower
ALPHA = 0.05  # family-wise: the chance of any false faster/slower in a whole report (Holm)
DEFAULT_REFERENCE = "tensorflow1"  # the article's TensorFlow environment
KERAS3_REFERENCE = "keras3-tensorflow"  # where tensorflow1 did not run (today's models): TensorFlow under Keras 3
CHANCE = {"mnist": 0.1, "cifar10": 0.1, "babi": 1 / 6}  # QA1 answers are one of six places
CHANCE_FACTOR = 1.5  # test accuracy below chance x 1.5 counts as "at chance"
ACCURACY_GAP = 0.10  # test accuracy this far (absolute) below the other backends' median is "far below"
# `validity: loss`: a final training loss this far (relative) above the others' median is "far above". Wide enough
# for backends that train the same model at different paces (ResNet-50 after 4 epochs: 1.47 on TensorFlow against
# 2.28-2.29 on JAX and PyTorch, each valid), narrow enough for one that barely trains.
LOSS_GAP = 0.5

Gate = Literal["accuracy", "loss"]
Basis = Literal["accuracy", "loss", "synthetic"]  # what a validity was judged on: synthetic data, finite loss only

Verdict = Literal["faster", "slower", "tie", "no clear difference", "one repeat: no verdict", "not comparable"]


@dataclass(frozen=True)
class Settings:
    """How verdicts are made; `orchestrate run` takes them from the matrix, `report` from its flags."""

    reference: str | None = None  # None: tensorflow1, else keras3-tensorflow where present, else the run's first
    tie_threshold: float = TIE_THRESHOLD
    alpha: float = ALPHA
    looks: tuple[int, ...] = ()  # a sequential run's looks (repeats per environment); (): one look at all
    spending: tuple[float, ...] = ()  # the fraction of alpha spent at each look
    loss_gate: tuple[str, ...] = ()  # profiles declared `validity: loss`: judged on training loss, not accuracy

    def gate(self, profile: str) -> Gate:
        return "loss" if profile in self.loss_gate else "accuracy"

    @property
    def plan(self) -> Design:
        return Design(tuple(self.looks), tuple(self.spending))


@dataclass(frozen=True)
class PairTest:
    """Sample B against sample A: ratio = Hodges-Lehmann estimate of B / A, below 1 means B is faster."""

    n_a: int
    n_b: int
    ratio: float | None
    low: float | None
    high: float | None
    p_value: float | None  # the exact two-sided p over all repeats
    verdict: Verdict
    level: float | None = None  # the interval's achieved confidence level (0.9 at 3 against 3)
    p_sequential: float | None = None  # spent over the looks of a sequential run (= p_value with one look)
    p_adjusted: float | None = None  # Holm over the report's family (what the verdict uses)

    @property
    def has_interval(self) -> bool:
        return self.low is not None and self.high is not None

    def describe(self) -> str:
        """'0.812 [0.78, 0.85]', '0.812 [0.78, 0.85] 90%' below 95%, or '0.812 (one repeat: no interval)'."""
        if self.ratio is None:
            return "-"
        if not self.has_interval:
            return f"{self.ratio:.3g} (one repeat: no interval)"
        text = f"{self.ratio:.3g} [{self.low:.3g}, {self.high:.3g}]"
        if self.level is not None and self.level < CONFIDENCE - 1e-9:
            text += f" {math.floor(self.level * 100)}%"
        return text

    def describe_p(self) -> str:
        """The p the verdict used: Holm-adjusted over the report's family (and spent over a sequential run's looks);
        the exact p of the pair alone is `p_value`."""
        if self.p_value is None:
            return "-"
        return f"{self.p_adjusted if self.p_adjusted is not None else self.p_value:.3g}"


def pair_test(a: list[float], b: list[float], tie_threshold: float = TIE_THRESHOLD,
              alpha: float = ALPHA, plan: Design = Design()) -> PairTest:
    """B's repeats against A's on log times: Hodges-Lehmann ratio and interval, exact rank-sum p; decided alone
    (a family of one). `workload_verdicts` and `compare_runs` adjust the p over their whole family."""
    a = [v for v in a if math.isfinite(v) and v > 0]
    b = [v for v in b if math.isfinite(v) and v > 0]
    if not a or not b:
        return PairTest(len(a), len(b), None, None, None, None, "not comparable")
    estimate, low, high, level = shift_interval(a, b)
    if len(a) < 2 or len(b) < 2:
        return PairTest(len(a), len(b), math.exp(estimate), None, None, None, "one repeat: no verdict")
    p_seq = sequential_p(a, b, plan)
    test = PairTest(len(a), len(b), math.exp(estimate), math.exp(low), math.exp(high),
                    exact_p(a, b), "no clear difference", level, p_seq, p_seq)
    return decide(test, p_seq, tie_threshold, alpha)


def ratio_interval(a: list[float], b: list[float], confidence: float = CONFIDENCE) -> tuple[float, float]:
    """The Hodges-Lehmann interval of B / A (its achieved level: `ranks.shift_interval`); kept under the name the
    bootstrap interval had, for callers of that name."""
    _, low, high, _ = shift_interval(a, b, confidence)
    return math.exp(low), math.exp(high)


def decide(test: PairTest, p_adjusted: float, tie_threshold: float, alpha: float) -> PairTest:
    """The verdict from the family-adjusted p, the ratio and the interval, on the log scale."""
    if test.ratio is None or not test.has_interval:
        return test
    bound = math.log1p(tie_threshold)
    log_ratio = math.log(test.ratio)
    verdict: Verdict = "no clear difference"
    if p_adjusted <= alpha and log_ratio <= -bound:
        verdict = "faster"
    elif p_adjusted <= alpha and log_ratio >= bound:
        verdict = "slower"
    elif (test.level or 0) >= 1 - 2 * alpha - 1e-9 and -bound <= math.log(test.low) \
            and math.log(test.high) <= bound:  # type: ignore[arg-type]
        verdict = "tie"  # an equivalence test (TOST) at alpha: a (1 - 2 alpha) interval within the bounds
    return dataclasses.replace(test, p_adjusted=p_adjusted, verdict=verdict)


def adjust_family(tests: dict[tuple, PairTest], settings: Settings) -> dict[tuple, PairTest]:
    """Holm over the family's sequential p-values; each test decided again with its adjusted p. Keys name a
    decision; two keys naming the same pair (A vs B and B vs A) must be merged by the caller."""
    adjusted = holm({k: t.p_sequential for k, t in tests.items() if t.p_sequential is not None})
    return {k: decide(t, adjusted[k], settings.tie_threshold, settings.alpha) if k in adjusted else t
            for k, t in tests.items()}


# ---------------------------------------------------------------------------------------------------- validity


VALID = {"accuracy": "valid", "loss": "valid by training loss (accuracy not judged)",
         "synthetic": "valid (synthetic data: finite loss, accuracy not judged)"}
SPEED_ONLY = {"loss": " (validity by training loss: speed only)", "synthetic": " (synthetic data: speed only)"}


@dataclass(frozen=True)
class Validity:
    reasons: tuple[str, ...] = ()
    gate: Basis = "accuracy"

    @property
    def valid(self) -> bool:
        return not self.reasons

    def describe(self) -> str:
        return "; ".join(self.reasons) if not self.valid else VALID[self.gate]


def check_validity(group: Group, others: list[Group], gate: Gate = "accuracy") -> Validity:
    """Why this backend's result on the workload cannot count (empty when it can). `others`: the other
    backends on the same workload and profile; `gate`: what shows the backend trained the model (test accuracy,
    or training loss for a `validity: loss` profile)."""
    basis: Basis = "synthetic" if gate == "accuracy" and group.synthetic else gate
    if not group.ok:
        return Validity((f"no ok repeat ({group.status})",), basis)
    if not group.steady_samples:
        return Validity(("no steady state (fewer than 2 epochs)",), basis)
    reasons = []
    zero = next((r for r in group.ok if r.timings.steady_state_s is not None and r.timings.steady_state_s <= 0), None)
    if zero is not None:
        reasons.append(f"a steady state of 0 s (repeat {zero.workload.repeat}): not a measurement")
    nan = _nan_loss(group)
    if nan:
        reasons.append(nan)
    elif gate == "loss":
        reasons.extend(_loss_reasons(group, others))
    if basis == "accuracy":
        reasons.extend(_accuracy_reasons(group, others))
    return Validity(tuple(reasons), basis)


def _accuracy_reasons(group: Group, others: list[Group]) -> list[str]:
    """At chance, or more than ACCURACY_GAP below the others' median; a configuration is held to its base (the
    float32 default run of the same environment) where that ran, as a mixed-precision or eager row must match it."""
    accuracy = group.test_accuracy
    if accuracy is None:
        return []
    reasons = []
    chance = CHANCE.get(group.ok[0].data.dataset or "")
    if chance is not None and accuracy < chance * CHANCE_FACTOR:
        reasons.append(f"test accuracy {accuracy:.3f} is at chance (chance {chance:.3f})")
    base = next((g for g in others if g.environment == group.configuration_base and g.ok
                 and g.test_accuracy is not None and not g.synthetic), None)
    if base is not None and base.test_accuracy is not None:
        if accuracy < base.test_accuracy - ACCURACY_GAP:
            reasons.append(f"test accuracy {accuracy:.3f} is far below its base {base.environment}'s "
                           f"{base.test_accuracy:.3f} (gap over {ACCURACY_GAP:.2f})")
        return reasons
    peers = [g.test_accuracy for g in others if g.test_accuracy is not None and g.ok and not g.synthetic]
    if peers and accuracy < statistics.median(peers) - ACCURACY_GAP:
        reasons.append(f"test accuracy {accuracy:.3f} is far below the other backends' "
                       f"{statistics.median(peers):.3f} (median; gap over {ACCURACY_GAP:.2f})")
    return reasons


def training_loss(group: Group) -> tuple[float, float] | None:
    """The median over ok repeats of the first and of the last epoch's training loss (None: not recorded)."""
    pairs = [(r.metrics.per_epoch[0].loss, r.metrics.per_epoch[-1].loss) for r in group.ok
             if len(r.metrics.per_epoch) >= 2]
    pairs = [(a, b) for a, b in pairs if a is not None and b is not None]
    if not pairs:
        return None
    return statistics.median(a for a, _ in pairs), statistics.median(b for _, b in pairs)


def _loss_reasons(group: Group, others: list[Group]) -> list[str]:
    """`validity: loss`: the training loss must fall, and end near the other backends' (same model, data, sizes)."""
    loss = training_loss(group)
    if loss is None:
        return ["no training loss per epoch recorded: the loss gate cannot judge it"]
    first, last = loss
    reasons = []
    if not last < first:
        reasons.append(f"training loss did not fall ({first:.3g} in the first epoch, {last:.3g} in the last)")
    peers = [t[1] for t in (training_loss(g) for g in others if g.ok) if t is not None]
    if peers and last > statistics.median(peers) * (1 + LOSS_GAP):
        reasons.append(f"final training loss {last:.3g} is far above the other backends' "
                       f"{statistics.median(peers):.3g} (median; over {LOSS_GAP:.0%} above)")
    return reasons


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
    pairs: dict[tuple[str, str], PairTest] = field(default_factory=dict)  # other decisions (the claims): (A, B)

    @property
    def key(self) -> tuple[str, str]:
        return (self.workload, self.profile)

    def row(self, environment: str) -> BackendRow | None:
        return next((r for r in self.rows if r.environment == environment), None)

    def test(self, a: str, b: str) -> PairTest | None:
        """B against A as the family decided it (None: not one of this report's decisions)."""
        return self.pairs.get((a, b))

    @property
    def excluded(self) -> list[BackendRow]:
        return [r for r in self.rows if not r.validity.valid]

    @property
    def gate(self) -> Basis:
        """What validity was judged on: the profile's gate, or `synthetic` where every backend that ran was judged
        on synthetic data (`check_validity` decides that per row)."""
        ran = [r for r in self.rows if r.group.ok]
        if ran and all(r.validity.gate == "synthetic" for r in ran):
            return "synthetic"
        return self.settings.gate(self.profile)

    def statement(self, short: bool = False) -> str:
        """One sentence: the fastest valid backend and how sure that is (`short`: without the numbers, which a
        table shows beside it); a `validity: loss` profile's, or one on synthetic data, says it is speed only."""
        return self._statement(short) + SPEED_ONLY.get(self.gate, "")

    def _statement(self, short: bool) -> str:
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
    for candidate in (settings.reference, DEFAULT_REFERENCE, KERAS3_REFERENCE):
        if candidate and candidate in environments:
            return candidate
    return environments[0]


def workload_verdicts(groups: list[Group], settings: Settings = Settings(),
                      extra_pairs: tuple[tuple[str, str, str], ...] = ()) -> list[WorkloadVerdict]:
    """One verdict per workload x profile, in first-seen order, every decision adjusted together (Holm).
    `extra_pairs`: (workload, A, B) decisions the report makes besides the verdict table (the article's claims),
    on every profile of that workload where both ran."""
    keys = list(dict.fromkeys((g.workload, g.profile) for g in groups))
    verdicts = [_workload_verdict(w, p, [g for g in groups if (g.workload, g.profile) == (w, p)], settings)
                for w, p in keys]
    for v in verdicts:
        for workload, a, b in extra_pairs:
            row_a, row_b = v.row(a), v.row(b)
            if workload == v.workload and row_a is not None and row_b is not None:
                v.pairs[(a, b)] = _pair(row_a.group, row_b.group, settings)
    _adjust(verdicts, settings)
    return verdicts


def _pair(a: Group, b: Group, settings: Settings) -> PairTest:
    return pair_test(a.steady_samples, b.steady_samples, settings.tie_threshold, settings.alpha, settings.plan)


def _workload_verdict(workload: str, profile: str, groups: list[Group], settings: Settings) -> WorkloadVerdict:
    reference = choose_reference([g.environment for g in groups], settings)
    ref_group = next(g for g in groups if g.environment == reference)
    rows = []
    for g in groups:
        validity = check_validity(g, [o for o in groups if o is not g], settings.gate(profile))
        rows.append(BackendRow(g, validity, None if g is ref_group else _pair(ref_group, g, settings)))
    valid = sorted((r for r in rows if r.validity.valid and r.median is not None), key=lambda r: r.median or 0)
    rows = valid + [r for r in rows if r not in valid]
    verdict = WorkloadVerdict(workload, profile, reference, rows, settings)
    if valid:
        verdict.fastest = valid[0]
    if len(valid) > 1:
        verdict.runner_up = valid[1]
        verdict.margin = _pair(valid[0].group, valid[1].group, settings)
    return verdict


Slot = tuple[str, str, str]  # where a decision is shown: ("row" | "margin" | "pair", A, B)


def decisions(verdicts: list[WorkloadVerdict]) -> dict[tuple[str, str, frozenset[str]], list[Slot]]:
    """The family: every distinct pair (workload, profile, {A, B}) a report decides, with the places it is shown
    (the same pair as a row, the margin and a claim is one decision)."""
    family: dict[tuple[str, str, frozenset[str]], list[Slot]] = {}
    for v in verdicts:
        shown = [("row", v.reference, r.environment) for r in v.rows if r.vs_reference is not None]
        if v.margin is not None and v.fastest is not None and v.runner_up is not None:
            shown.append(("margin", v.fastest.environment, v.runner_up.environment))
        shown += [("pair", a, b) for a, b in v.pairs]
        for slot in shown:
            family.setdefault((v.workload, v.profile, frozenset(slot[1:])), []).append(slot)
    return family


def _adjust(verdicts: list[WorkloadVerdict], settings: Settings) -> None:
    by_key = {(v.workload, v.profile): v for v in verdicts}
    family = decisions(verdicts)
    tests = {key: _shown(by_key[key[:2]], slots[0]) for key, slots in family.items()}
    adjusted = adjust_family(tests, settings)
    for key, slots in family.items():
        p_adjusted = adjusted[key].p_adjusted
        for slot in slots:
            test = _shown(by_key[key[:2]], slot)
            if p_adjusted is not None and test.p_sequential is not None:
                _store(by_key[key[:2]], slot, decide(test, p_adjusted, settings.tie_threshold, settings.alpha))


def _shown(v: WorkloadVerdict, slot: Slot) -> PairTest:
    kind, a, b = slot
    if kind == "pair":
        return v.pairs[(a, b)]
    if kind == "margin":
        assert v.margin is not None
        return v.margin
    row = v.row(b)
    assert row is not None and row.vs_reference is not None
    return row.vs_reference


def _store(v: WorkloadVerdict, slot: Slot, test: PairTest) -> None:
    kind, a, b = slot
    if kind == "pair":
        v.pairs[(a, b)] = test
    elif kind == "margin":
        v.margin = test
    else:
        row = v.row(b)
        assert row is not None
        row.vs_reference = test


# ------------------------------------------------------------------------------------------- across workloads


@dataclass(frozen=True)
class Rank:
    environment: str
    backend: str
    geomean: float  # geometric mean of the ratios to the reference (below 1: faster than the reference)
    workloads: int  # how many workloads it is over
    fastest_on: int  # workloads where it is the fastest valid backend
    complete: bool = True  # valid on every workload where the reference is: ranked over the same workloads


def ranking(verdicts: list[WorkloadVerdict]) -> list[Rank]:
    """Backends by the geometric mean of their ratios to the reference. Geometric means over different workloads
    do not compare: the backends valid on every workload where the reference is valid are ranked first (over
    those same workloads), then the others over theirs, marked incomplete."""
    ratios: dict[str, list[float]] = {}
    backends: dict[str, str] = {}
    wins: dict[str, int] = {}
    compared = 0
    for v in verdicts:
        if v.fastest is not None:  # a win counts whether or not the reference is valid there
            wins[v.fastest.environment] = wins.get(v.fastest.environment, 0) + 1
            backends[v.fastest.environment] = v.fastest.group.backend
        ref = v.row(v.reference)
        if ref is None or not ref.validity.valid or ref.median is None:
            continue
        compared += 1
        for row in v.rows:
            if not row.validity.valid or row.median is None:
                continue
            backends[row.environment] = row.group.backend
            ratio = 1.0 if row.vs_reference is None else row.vs_reference.ratio
            if ratio:
                ratios.setdefault(row.environment, []).append(ratio)
    ranks = [Rank(env, backends[env], math.exp(statistics.fmean(math.log(r) for r in rs)), len(rs),
                  wins.get(env, 0), len(rs) == compared) for env, rs in ratios.items()]
    return sorted(ranks, key=lambda r: (not r.complete, r.geomean))


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
    tests = {g.key: pair_test(g.steady_samples, by_key_b[g.key].steady_samples, settings.tie_threshold,
                              settings.alpha) for g in a if g.key in by_key_b}
    adjusted = adjust_family(tests, settings)  # Holm over every compared group
    shared = [RunComparison(g.key, g, by_key_b[g.key], adjusted[g.key]) for g in a if g.key in by_key_b]
    return shared, [g.key for g in a if g.key not in by_key_b], [g.key for g in b if g.key not in keys_a]


# ------------------------------------------------------------------------------------------ sequential repeats


def pair_states(verdicts: list[WorkloadVerdict]) -> list[PairState]:
    """Every decision of the report as the sequential rule sees it (analysis/sequential.py: next_round)."""
    by_key = {(v.workload, v.profile): v for v in verdicts}
    states = []
    for key, slots in decisions(verdicts).items():
        v = by_key[key[:2]]
        _, a, b = slots[0]
        test = _shown(v, slots[0])
        rows = [v.row(a), v.row(b)]
        valid = all(r is not None and r.validity.valid for r in rows)
        states.append(PairState(a, b, test.n_a, test.n_b, test.verdict, valid, v.workload, v.profile))
    return states
