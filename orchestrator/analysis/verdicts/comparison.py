"""Run against run: each environment x workload of run B against the same in run A, by the pair test, the
family adjusted by Holm (`orchestrate compare`)."""

from __future__ import annotations

from dataclasses import dataclass

from orchestrator.analysis.stats import Group
from orchestrator.analysis.verdicts.pairs import PairTest, adjust_family, pair_test
from orchestrator.analysis.verdicts.settings import Settings

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
