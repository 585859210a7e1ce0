"""What the rank statistics need when the repeats are not well behaved: a screen for far-out repeats (a process
slowed by something else on a shared machine), the equivalence test (TOST) from exact one-sided rank tests, and an
interval that stays honest when the two backends' spreads differ.

- `screen`: drops the repeats far from the pooled median (more than `FAR` normalised MADs of the pooled log times),
  at most a third of the smaller side; the rule looks only at the pooled values and the two sample sizes, never at
  which side a value came from, so the exact rank-sum p of what is left is still exact (under no difference every
  labelling of the pooled values is equally likely, also given which of them were dropped and how many per side).
- `set_aside`: one environment's repeats slowed by something else (far above its own median: one-sided, at
  least `SLOW` slower, at most a third of them); a sequential run replaces them with further repeats, so a slow
  repeat costs one more cell, not a look's power (docs/statistics.md, "Slow repeats are replaced").
- `tost_p`: two one-sided exact rank-sum tests of |log ratio| >= bound; p <= alpha is an equivalence test at alpha.
- `spread_differs` / `welch_interval`: when one side's log times spread `SPREAD_RATIO` times the other's, the
  Hodges-Lehmann interval (which assumes a pure shift) covers less than its label; the Welch interval on log times
  does not assume equal spread, and the pair's interval becomes the hull of both (widened, never narrowed).
"""

from __future__ import annotations

import math
import statistics

from orchestrator.analysis.ranks import lower_tail_p

FAR = 3.0  # normalised MADs of the pooled log times beyond which a repeat is screened out
SLOW = math.log(1.2)  # a repeat set aside is at least this far (log) above its environment's median
SPREAD_RATIO = 1.5  # the ratio of the two sides' log-time standard deviations from which the interval is widened


def screen(a: list[float], b: list[float]) -> tuple[list[float], list[float]]:
    """(a, b) without the repeats far from the pooled median (log times); unchanged when none is far, or when more
    are far than a third of the smaller side (then the far ones are a group of their own, not stray repeats)."""
    logs = [math.log(v) for v in list(a) + list(b)]
    center, scale = _median_and_scale(logs)
    if scale <= 0:
        return list(a), list(b)
    far = [abs(x - center) > FAR * scale for x in logs]
    if not any(far) or sum(far) > min(len(a), len(b)) // 3:
        return list(a), list(b)
    return ([v for v, f in zip(a, far) if not f], [v for v, f in zip(b, far[len(a):]) if not f])


def _median_and_scale(logs: list[float]) -> tuple[float, float]:
    """The median of log times and their normalised MAD (the standard deviation's robust estimate)."""
    center = statistics.median(logs)
    return center, statistics.median(abs(x - center) for x in logs) / 0.6745


def set_aside(values: list[float]) -> list[bool]:
    """Which of one environment's repeats are set aside: more than max(`FAR` normalised MADs, `SLOW`) above the
    median of its log times (a process slowed by something else, never a fast one); none when more than a third
    are that slow (then slow is how the environment runs, not a stray repeat)."""
    logs = [math.log(v) for v in values]
    if len(logs) < 3:
        return [False] * len(logs)
    center, scale = _median_and_scale(logs)
    slow = [x - center > max(FAR * scale, SLOW) for x in logs]
    return [False] * len(logs) if sum(slow) > len(logs) // 3 else slow


def kept(values: list[float]) -> list[float]:
    """The repeats not set aside (`set_aside`), in their order."""
    return [v for v, aside in zip(values, set_aside(values)) if not aside]


def tost_p(a: list[float], b: list[float], bound: float) -> float:
    """The equivalence p of |log(B / A)| < bound: the larger of the exact one-sided rank-sum p of log B - bound
    below log A and of log B + bound above it (3 against 3: at best 0.05)."""
    la = [math.log(v) for v in a]
    lb = [math.log(v) for v in b]
    below = lower_tail_p(la, [x - bound for x in lb])
    above = lower_tail_p([-x for x in la], [-(x + bound) for x in lb])
    return max(below, above)


def spread_differs(a: list[float], b: list[float]) -> bool:
    """Whether one side's log times spread at least SPREAD_RATIO times the other's (needs 3 repeats a side)."""
    if len(a) < 3 or len(b) < 3:
        return False
    sa, sb = _sd([math.log(v) for v in a]), _sd([math.log(v) for v in b])
    return max(sa, sb) >= SPREAD_RATIO * min(sa, sb) and max(sa, sb) > 0


def _sd(values: list[float]) -> float:
    mean = math.fsum(values) / len(values)
    return math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (len(values) - 1))


def _welch(a: list[float], b: list[float]) -> tuple[float, float, float]:
    """(mean log B - mean log A, its standard error, Satterthwaite's degrees of freedom; n - 2 when both sides are
    constant)."""
    la = [math.log(v) for v in a]
    lb = [math.log(v) for v in b]
    va, vb = _sd(la) ** 2 / len(la), _sd(lb) ** 2 / len(lb)
    se = math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va**2 / (len(la) - 1) + vb**2 / (len(lb) - 1)) if se > 0 else len(la) + len(lb) - 2
    return math.fsum(lb) / len(lb) - math.fsum(la) / len(la), se, df


def welch_interval(a: list[float], b: list[float], level: float) -> tuple[float, float]:
    """The Welch interval of log(B / A) (mean log times, Satterthwaite's degrees of freedom) at `level`."""
    center, se, df = _welch(a, b)
    half = t_quantile(round(0.5 + level / 2, 9), round(df, 3)) * se
    return center - half, center + half


def welch_p(a: list[float], b: list[float]) -> float:
    """Welch's two-sided p of equal mean log times (Satterthwaite's degrees of freedom); 0 when neither side varies
    and they differ, 1 when neither varies and they are equal."""
    center, se, df = _welch(a, b)
    if se <= 0:
        return 0.0 if center else 1.0
    return min(1.0, 2 * t_cdf(-abs(center) / se, df))


def t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t with df (not necessarily whole) degrees of freedom."""
    from scipy.special import stdtr  # imported here: the command line starts without scipy

    return float(stdtr(df, t))


def t_quantile(q: float, df: float) -> float:
    """The q-quantile of Student's t with df degrees of freedom."""
    from scipy.special import stdtrit

    return float(stdtrit(df, q))
