"""Exact rank statistics for two small samples of repeats, on log times.

- `exact_p`: the two-sided Wilcoxon-Mann-Whitney test from the exact permutation distribution of the rank sum,
  with ties given midranks (never a normal approximation: at 3 against 3 the smallest p is 2/20 = 0.1).
- `shift_interval`: the Hodges-Lehmann estimate of the log ratio (median of the n*m differences log b_j - log a_i)
  and the distribution-free interval between two of those differences, chosen from the exact Mann-Whitney
  distribution. The attainable levels are discrete at small n, so the level actually achieved is returned with
  it (3 against 3: 90%, the range of the nine differences; 4 against 4: 97%) and the label says that level.
"""

from __future__ import annotations

import math
from functools import lru_cache

CONFIDENCE = 0.95  # the interval's target level; the achieved level is the largest attainable one at or below it


@lru_cache(maxsize=4096)
def _sum_counts(scores: tuple[int, ...], n: int) -> dict[int, int]:
    """How many of the C(len(scores), n) ways to pick n of `scores` give each sum."""
    ways: list[dict[int, int]] = [dict() for _ in range(n + 1)]
    ways[0][0] = 1
    for score in scores:
        for k in range(n, 0, -1):  # each score is picked at most once
            below = ways[k - 1]
            here = ways[k]
            for total, count in below.items():
                here[total + score] = here.get(total + score, 0) + count
    return ways[n]


def _doubled_midranks(values: list[float]) -> list[int]:
    """Twice the midrank of each value (integers, ties sharing their mean rank)."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = i + j + 2  # 2 x mean of ranks i+1 .. j+1
        i = j + 1
    return ranks


def exact_p(a: list[float], b: list[float]) -> float:
    """Two-sided p of the rank-sum test of B against A from its exact permutation distribution (ties: midranks)."""
    ranks = _doubled_midranks(list(a) + list(b))
    observed = sum(ranks[len(a):])
    n_b, total = len(b), len(ranks)
    center = n_b * (total + 1)  # the mean of the doubled rank sum
    counts = _sum_counts(tuple(sorted(ranks)), n_b)
    extreme = sum(c for s, c in counts.items() if abs(s - center) >= abs(observed - center))
    return min(1.0, extreme / math.comb(total, n_b))


def lower_tail_p(a_logs: list[float], b_logs: list[float]) -> float:
    """P(rank sum of B <= observed) under no difference, exact (ties: midranks): small when B lies below A."""
    ranks = _doubled_midranks(a_logs + b_logs)
    observed = sum(ranks[len(a_logs):])
    counts = _sum_counts(tuple(sorted(ranks)), len(b_logs))
    return sum(c for s, c in counts.items() if s <= observed) / math.comb(len(ranks), len(b_logs))


def _u_cdf(n: int, m: int, u: int) -> float:
    """P(U <= u) for the Mann-Whitney U of samples of n and m without ties."""
    if u < 0:
        return 0.0
    counts = _sum_counts(tuple(range(1, n + m + 1)), n)
    offset = n * (n + 1) // 2
    return sum(c for s, c in counts.items() if s - offset <= u) / math.comb(n + m, n)


def interval_rank(n: int, m: int, confidence: float = CONFIDENCE) -> tuple[int, float]:
    """(k, achieved level): the interval between the k-th smallest and k-th largest of the n*m differences covers
    the shift with probability 1 - 2 P(U <= k - 1). k is the largest with that level at least `confidence`; when
    no k reaches it (3 against 3), k = 1 (the whole range) with the level it has."""
    k = 1
    while k < (n * m + 1) // 2 and 1 - 2 * _u_cdf(n, m, k) >= confidence:
        k += 1
    return k, 1 - 2 * _u_cdf(n, m, k - 1)


def shift_interval(a: list[float], b: list[float],
                   confidence: float = CONFIDENCE) -> tuple[float, float, float, float]:
    """(estimate, low, high, achieved level) of log(B / A) by Hodges-Lehmann over log times."""
    diffs = sorted(math.log(y) - math.log(x) for x in a for y in b)
    k, level = interval_rank(len(a), len(b), confidence)
    middle = len(diffs) // 2
    estimate = diffs[middle] if len(diffs) % 2 else (diffs[middle - 1] + diffs[middle]) / 2
    return estimate, diffs[k - 1], diffs[len(diffs) - k], level


def smallest_p(n: int, m: int) -> float:
    """The smallest two-sided p that n against m repeats can reach (every repeat of one side beats the other's)."""
    return min(1.0, 2 / math.comb(n + m, n))


def repeats_for(alpha: float) -> int:
    """The fewest repeats per side (equal sides) whose smallest p is at most alpha."""
    n = 2
    while smallest_p(n, n) > alpha:
        n += 1
    return n
