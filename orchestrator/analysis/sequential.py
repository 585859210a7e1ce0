"""Sequential repeats: a fixed maximum number of looks, with the error spent across them, and the rule that says
which environments need another round.

Design: the first look after the profile's repeats (3 by default), then one look after each further round of as
many repeats, up to `MAX_LOOKS` looks (3, 6, 9, 12 repeats per environment). Alpha is spent across the looks by
fixed fractions (`SPENDING`, Bonferroni over looks): the pair's sequential p is min over its looks of
p_look / fraction_look, which is a valid p-value whatever the stopping (P(min_k p_k / f_k <= u) <= sum_k u f_k = u),
so Holm over the pairs' sequential p-values keeps the family-wise error of the whole report.

Which test at which look (`WELCH_LOOKS`): the rank-sum test cannot decide at 3 against 3 (its smallest p is 0.1),
so the first two looks use Welch's t test on the log times (after the same screen), which can: a clear difference
(a 30% ratio at CV 3%, t about 10) survives Holm at the first look, so a run pays 3 repeats of each backend, not 6,
for its clear pairs. It assumes roughly normal log times, hence the screen first and the rank-sum test, which
assumes nothing, at the later looks, where most alpha is: 0.6 at the last look, where a true 10% difference is
found (docs/statistics.md, "Which test at which look"). "Tie" spends its own alpha by the same
fractions (`sequential_tie_p`): an equivalence test at alpha x fraction at each look, so a pair stopped at its
first tie keeps the false-tie rate at alpha (none at 3 against 3, whose best one-sided p is 0.05).

A look counts when its round ran for both sides (each has more repeats than the previous look's count), with the
repeats each side has up to the look's count: a failed repeat leaves 5 against 6, not a lost look. Each look's p
is an exact permutation p given its sample sizes, which depend on failures only (assumed unrelated to the
times), so the Bonferroni sum still bounds the error (docs/statistics.md, "A missing repeat"). Each look's p is
the rank-sum p after `robust.screen` (far-out repeats dropped by a rule blind to the sides: still exact).

A repeat slowed by something else (`robust.set_aside`: far above its own environment's median) is set aside and
replaced: the looks read each side's first repeats not set aside, and `next_round` asks for the look's count plus
the repeats set aside, so one slow repeat costs a cell, not the last look's power (docs/statistics.md, "Slow
repeats are replaced").

Pure functions: given the samples and the decisions, which pairs are decided and which environments need more.
"""

from __future__ import annotations

from dataclasses import dataclass

from orchestrator.analysis.ranks import exact_p
from orchestrator.analysis.robust import kept, screen, tost_p, welch_p

MAX_LOOKS = 4
SPENDING = (0.15, 0.2, 0.05, 0.6)  # fraction of alpha spent at each look (sums to 1)
WELCH_LOOKS = 2  # the first looks decided by Welch's t test on log times; the later ones by the exact rank-sum test
DECIDED = ("faster", "slower", "tie")


@dataclass(frozen=True)
class Design:
    """Looks at these repeat counts per environment, alpha spent by these fractions."""

    looks: tuple[int, ...] = ()  # () : one look, at all the repeats (a fixed-size run)
    spending: tuple[float, ...] = ()

    @property
    def sequential(self) -> bool:
        return bool(self.looks)

    @property
    def max_repeats(self) -> int | None:
        return self.looks[-1] if self.looks else None


def design(first: int, max_looks: int = MAX_LOOKS, spending: tuple[float, ...] = SPENDING) -> Design:
    """Looks at first, 2 first, ... max_looks x first repeats."""
    if len(spending) != max_looks or abs(sum(spending) - 1) > 1e-9:
        raise ValueError(f"spending {spending} must give {max_looks} fractions summing to 1")
    return Design(tuple(first * (k + 1) for k in range(max_looks)), spending)


def screened_p(a: list[float], b: list[float]) -> float:
    """The exact rank-sum p of the repeats left after `robust.screen` (far-out repeats dropped, still exact)."""
    a, b = screen(a, b)
    return exact_p(a, b) if a and b else 1.0


def screened_welch_p(a: list[float], b: list[float]) -> float:
    """Welch's two-sided p on the log times left after `robust.screen` (1 when a side has fewer than 2)."""
    a, b = screen(a, b)
    return welch_p(a, b) if len(a) >= 2 and len(b) >= 2 else 1.0


def look_p(a: list[float], b: list[float], look: int) -> float:
    """The p of one look (0-based): Welch's before `WELCH_LOOKS`, the exact rank-sum p after."""
    return screened_welch_p(a, b) if look < WELCH_LOOKS else screened_p(a, b)


def looks_taken(a: list[float], b: list[float],
                plan: Design) -> list[tuple[list[float], list[float], float, int]]:
    """(A's repeats, B's repeats, fraction, look index) at every look the pair reached: the round ran for both sides
    (each has more repeats than the previous look's count), each side's first repeats up to the look's count. The
    repeats are those not set aside (`robust.set_aside`): a slow repeat's replacement takes its place, and a look
    that a side with repeats set aside cannot fill is not read until the replacements came (a failed repeat, by
    contrast, leaves the look to be read with what the side has)."""
    kept_a, kept_b = kept(a), kept(b)
    waits = [len(kept_a) < len(a), len(kept_b) < len(b)]  # a side with repeats set aside waits for replacements
    a, b = kept_a, kept_b
    taken, previous = [], 0
    for look, (n, fraction) in enumerate(zip(plan.looks, plan.spending)):
        waiting = any(wait and len(x) < n for wait, x in zip(waits, (a, b)))
        if min(len(a), len(b)) > previous and min(len(a), len(b)) >= 2 and not waiting:
            taken.append((a[:n], b[:n], fraction, look))
        previous = n
    return taken


def sequential_p(a: list[float], b: list[float], plan: Design) -> float:
    """The pair's p over the looks it had, alpha spent by the plan (each look's p after the screen). A fixed-size
    run (no looks): the screened exact p over all repeats."""
    if not plan.sequential:
        return screened_p(a, b)
    spent = [look_p(x, y, look) / fraction for x, y, fraction, look in looks_taken(a, b, plan) if fraction > 0]
    return min([1.0, *spent])


def sequential_tie_p(a: list[float], b: list[float], plan: Design, bound: float) -> float:
    """The pair's equivalence p (|log ratio| < bound) over the looks it had, spent like `sequential_p`; a
    fixed-size run: the TOST p over all repeats. "tie" when at most alpha."""
    if not plan.sequential:
        return tost_p(a, b, bound)
    spent = [tost_p(x, y, bound) / fraction for x, y, fraction, _ in looks_taken(a, b, plan) if fraction > 0]
    return min([1.0, *spent])


@dataclass(frozen=True)
class PairState:
    """One decision of the report: two environments, their repeats so far and the verdict they have."""

    env_a: str
    env_b: str
    n_a: int
    n_b: int
    verdict: str
    valid: bool = True  # an excluded backend (NaN, at chance) gets no more repeats for this pair
    workload: str = ""
    profile: str = ""
    aside_a: int = 0  # repeats set aside as slow (`robust.set_aside`), each replaced by one more
    aside_b: int = 0

    @property
    def kept(self) -> int:
        """The repeats the smaller side has for the looks (its ok repeats not set aside)."""
        return min(self.n_a - self.aside_a, self.n_b - self.aside_b)


def next_round(pairs: list[PairState], plan: Design) -> dict[tuple[str, str, str], int]:
    """(environment, workload, profile) in still-undecided pairs, with the ok repeats each should reach for the
    next look: the look's count plus the repeats it had set aside (empty: every pair is decided, or at its last
    look)."""
    if not plan.sequential:
        return {}
    wanted: dict[tuple[str, str, str], int] = {}
    for pair in pairs:
        if pair.verdict in DECIDED or not pair.valid:
            continue
        target = next((n for n in plan.looks if n > pair.kept), None)
        if target is None:
            continue
        for env, aside in ((pair.env_a, pair.aside_a), (pair.env_b, pair.aside_b)):
            key = (env, pair.workload, pair.profile)
            wanted[key] = max(wanted.get(key, 0), target + aside)
    return wanted


def stop_reason(pair: PairState, plan: Design, budget_spent: bool | None = None) -> str:
    """Why a pair has the repeats it has: decided, the last look reached, the budget spent, or a fixed size."""
    if not plan.sequential:
        return "fixed repeats"
    if pair.verdict in DECIDED:
        return "decided"
    if pair.kept >= plan.looks[-1]:
        return "max looks"
    if not pair.valid:
        return "excluded"
    return "budget spent" if budget_spent is not False else "undecided"
