"""Sequential repeats: a fixed maximum number of looks, with the error spent across them, and the rule that says
which environments need another round.

Design: the first look after the profile's repeats (3 by default), then one look after each further round of as
many repeats, up to `MAX_LOOKS` looks (3, 6, 9, 12 repeats per environment). Alpha is spent across the looks by
fixed fractions (`SPENDING`, Bonferroni over looks): the pair's sequential p is min over its looks of
p_look / fraction_look, which is a valid p-value whatever the stopping (P(min_k p_k / f_k <= u) <= sum_k u f_k = u),
so Holm over the pairs' sequential p-values keeps the family-wise error of the whole report. No spending at the
first look: 3 against 3 cannot reach a p that survives the family (its smallest p is 0.1); the first look can
still stop a pair as a tie.

Pure functions: given the samples and the decisions, which pairs are decided and which environments need more.
"""

from __future__ import annotations

from dataclasses import dataclass

from orchestrator.analysis.ranks import exact_p

MAX_LOOKS = 4
SPENDING = (0.0, 0.4, 0.1, 0.5)  # fraction of alpha spent at each look (sums to 1)
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


def sequential_p(a: list[float], b: list[float], plan: Design) -> float:
    """The pair's p over the looks it had (first n repeats of each side at look n), alpha spent by the plan.
    A fixed-size run (no looks): the exact p over all repeats."""
    if not plan.sequential:
        return exact_p(a, b)
    best = 1.0
    for n, fraction in zip(plan.looks, plan.spending):
        if fraction > 0 and len(a) >= n and len(b) >= n:
            best = min(best, exact_p(a[:n], b[:n]) / fraction)
    return min(1.0, best)


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


def next_round(pairs: list[PairState], plan: Design) -> dict[tuple[str, str, str], int]:
    """(environment, workload, profile) in still-undecided pairs, with the repeat count each should reach at the
    next look (empty: every pair is decided, or at its last look)."""
    if not plan.sequential:
        return {}
    wanted: dict[tuple[str, str, str], int] = {}
    for pair in pairs:
        if pair.verdict in DECIDED or not pair.valid:
            continue
        have = min(pair.n_a, pair.n_b)
        target = next((n for n in plan.looks if n > have), None)
        if target is None:
            continue
        for env in (pair.env_a, pair.env_b):
            key = (env, pair.workload, pair.profile)
            wanted[key] = max(wanted.get(key, 0), target)
    return wanted


def stop_reason(pair: PairState, plan: Design, budget_spent: bool | None = None) -> str:
    """Why a pair has the repeats it has: decided, the last look reached, the budget spent, or a fixed size."""
    if not plan.sequential:
        return "fixed repeats"
    if pair.verdict in DECIDED:
        return "decided"
    if min(pair.n_a, pair.n_b) >= plan.looks[-1]:
        return "max looks"
    if not pair.valid:
        return "excluded"
    return "budget spent" if budget_spent is not False else "undecided"
