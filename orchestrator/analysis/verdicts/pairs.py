"""The pair test: two samples of repeats (one steady state per repeat) compared on log times by the
Hodges-Lehmann ratio with its exact Mann-Whitney interval (widened to the Welch interval's hull when the two
spreads differ) and the exact rank-sum p after the far-out screen (sequential when the settings have looks), then
decided faster / slower / tie / no clear difference against the tie threshold and alpha (a tie by the
equivalence p, spent over the looks like the difference p)."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from orchestrator.analysis.holm import holm
from orchestrator.analysis.ranks import CONFIDENCE, exact_p, shift_interval
from orchestrator.analysis.robust import kept, spread_differs, welch_interval
from orchestrator.analysis.sequential import Design, sequential_p, sequential_tie_p
from orchestrator.analysis.verdicts.settings import (
    ALPHA,
    TIE_THRESHOLD,
    Settings,
    Verdict,
)


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
    p_tie: float | None = None  # the equivalence p of |log ratio| < log(1 + tie threshold), spent over the looks
    widened: bool = False  # the spreads differ: the interval is the hull of Hodges-Lehmann's and Welch's
    aside_a: int = 0  # a sequential run's repeats set aside as slow (robust.set_aside), replaced by further ones
    aside_b: int = 0

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
    # a sequential run's ratio and interval leave out the repeats set aside as slow, as its looks do
    shown_a, shown_b = (kept(a), kept(b)) if plan.sequential else (a, b)
    estimate, low, high, level = shift_interval(shown_a, shown_b)
    if len(shown_a) < 2 or len(shown_b) < 2:
        return PairTest(len(a), len(b), math.exp(estimate), None, None, None, "one repeat: no verdict",
                        aside_a=len(a) - len(shown_a), aside_b=len(b) - len(shown_b))
    widened = spread_differs(shown_a, shown_b)
    if widened:  # Hodges-Lehmann assumes equal spread; Welch's interval does not: keep the wider of both
        welch_low, welch_high = welch_interval(shown_a, shown_b, level)
        low, high = min(low, welch_low), max(high, welch_high)
    p_seq = sequential_p(a, b, plan)
    p_tie = sequential_tie_p(a, b, plan, math.log1p(tie_threshold))
    test = PairTest(len(a), len(b), math.exp(estimate), math.exp(low), math.exp(high), exact_p(a, b),
                    "no clear difference", level, p_seq, p_seq, p_tie, widened, len(a) - len(shown_a),
                    len(b) - len(shown_b))
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
            and math.log(test.high) <= bound and (test.p_tie is None or test.p_tie <= alpha):  # type: ignore[arg-type]
        verdict = "tie"  # the shown interval within the bounds and an equivalence test (TOST) at alpha, spent over
        # the looks (p_tie; a test built without it: the interval alone, a (1 - 2 alpha) one at least)
    return dataclasses.replace(test, p_adjusted=p_adjusted, verdict=verdict)


def adjust_family(tests: dict[tuple, PairTest], settings: Settings) -> dict[tuple, PairTest]:
    """Holm over the family's sequential p-values; each test decided again with its adjusted p. Keys name a
    decision; two keys naming the same pair (A vs B and B vs A) must be merged by the caller."""
    adjusted = holm({k: t.p_sequential for k, t in tests.items() if t.p_sequential is not None})
    return {k: decide(t, adjusted[k], settings.tie_threshold, settings.alpha) if k in adjusted else t
            for k, t in tests.items()}
