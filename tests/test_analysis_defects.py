"""Defects found by a statistics audit, each on constructed repeats (pure Python, seconds): exact p with ties, a symmetric tie
threshold, interval labels that do not overstate coverage, wins counted when the reference is invalid, a ranking
over one set of workloads, a steady state of 0 never fastest, claims judged per profile, and the help of
`compare --fail-on-slower` saying how many repeats it needs."""

from __future__ import annotations

import math
import random

import pytest

from orchestrator.analysis.stats import group_results
from orchestrator.analysis.verdicts.settings import Settings
from orchestrator.analysis.verdicts.pairs import pair_test
from orchestrator.analysis.verdicts.ranking import ranking
from orchestrator.analysis.verdicts.workloads import workload_verdicts
from orchestrator.cli import main
from orchestrator.analysis.claims import judge_all
from orchestrator.results.schema import CellResult
from test_verdicts import BASE, repeats


def test_ties_take_the_exact_permutation_p_not_the_normal_approximation() -> None:
    test = pair_test([1.0] * 3, [1.2] * 3)
    assert test.p_value == pytest.approx(0.1)  # scipy's normal approximation said 0.047
    assert test.verdict != "slower"


def test_the_tie_threshold_is_symmetric_on_log_ratios() -> None:
    a = list(BASE)
    b = [t * 1.051 for t in reversed(BASE)]
    assert pair_test(a, b).verdict == "slower"
    assert pair_test(b, a).verdict == "faster"  # 1 / 1.051 is as far from 1 as 1.051 on the log scale


def test_the_interval_label_never_overstates_its_measured_coverage() -> None:
    rng = random.Random(7)
    for n in (3, 4):
        test = pair_test([1.0] * n, [1.0 + i / 100 for i in range(n)])
        label = test.level
        assert label is not None and label < 0.95 if n == 3 else label >= 0.95
        covered = 0
        draws = 1500
        for _ in range(draws):
            a = [math.exp(rng.gauss(0, 0.05)) for _ in range(n)]
            b = [1.1 * math.exp(rng.gauss(0, 0.05)) for _ in range(n)]
            t = pair_test(a, b)
            covered += t.low <= 1.1 <= t.high  # type: ignore[operator]
        assert covered / draws >= label - 0.02  # 1500 draws: a binomial standard error of about 0.8%
    assert "90%" in pair_test([1.0, 1.1, 1.2], [2.0, 2.1, 2.2]).describe()


def _nan(env: str, workload: str, factor: float) -> list[CellResult]:
    return repeats(env, workload, [t * factor for t in BASE], loss=math.nan)


def test_a_win_counts_when_the_reference_is_invalid_on_that_workload() -> None:
    mlp = (repeats("tensorflow1", "mnist_mlp", BASE) + repeats("keras3-jax", "mnist_mlp", [t * 0.5 for t in BASE]))
    cnn = (_nan("tensorflow1", "mnist_cnn", 1.0) + repeats("keras3-jax", "mnist_cnn", [t * 0.5 for t in BASE])
           + repeats("cntk", "mnist_cnn", [t * 0.9 for t in BASE]))
    ranks = {r.environment: r for r in ranking(workload_verdicts(group_results(mlp + cnn)))}
    assert ranks["keras3-jax"].fastest_on == 2


def test_the_ranking_compares_geometric_means_over_the_same_workloads() -> None:
    mlp = (repeats("tensorflow1", "mnist_mlp", BASE) + repeats("keras3-jax", "mnist_mlp", [t * 0.5 for t in BASE])
           + repeats("cntk", "mnist_mlp", [t * 0.6 for t in BASE]))
    cnn = (repeats("tensorflow1", "mnist_cnn", BASE) + _nan("keras3-jax", "mnist_cnn", 3.0)
           + repeats("cntk", "mnist_cnn", [t * 1.0 for t in BASE]))
    ranks = ranking(workload_verdicts(group_results(mlp + cnn)))
    # keras3-jax's 0.5 is over mnist_mlp only; cntk's 0.77 over both: jax must not rank first on fewer workloads
    assert ranks[0].environment != "keras3-jax"
    jax = next(r for r in ranks if r.environment == "keras3-jax")
    assert jax.workloads == 1 and not jax.complete


def test_a_steady_state_of_zero_never_makes_a_backend_fastest() -> None:
    zero = repeats("keras3-jax", "mnist_mlp", [0.0, 0.0, 10.0])
    cells = repeats("tensorflow1", "mnist_mlp", BASE[:3]) + repeats("cntk", "mnist_mlp", BASE[:3]) + zero
    (verdict,) = workload_verdicts(group_results(cells))
    assert verdict.fastest is not None and verdict.fastest.environment != "keras3-jax"
    jax = verdict.row("keras3-jax")
    assert jax is not None and not jax.validity.valid and "0 s" in jax.validity.describe()


def _profile(results: list[CellResult], profile: str) -> list[CellResult]:
    return [r.model_copy(update={"workload": r.workload.model_copy(update={"profile": profile}),
                                 "cell_id": r.cell_id.replace("compare", profile)}) for r in results]


def test_claims_are_judged_on_every_profile_measured_not_the_first() -> None:
    smoke = _profile(repeats("tensorflow1", "mnist_mlp", BASE)
                     + repeats("mxnet-keras1", "mnist_mlp", [t * 1.5 for t in BASE]), "smoke")
    compare = (repeats("tensorflow1", "mnist_mlp", BASE)
               + repeats("mxnet-keras1", "mnist_mlp", [t * 0.5 for t in BASE]))
    judged = {(j.claim.id, j.profile): j.status
              for j in judge_all(workload_verdicts(group_results(smoke + compare)), Settings())}
    assert judged[("mlp-mxnet-tf", "compare")] == "reproduced"
    assert judged[("mlp-mxnet-tf", "smoke")] == "refuted"


def test_compare_fail_on_slower_help_states_the_repeats_it_needs(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["compare", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "2+ repeats" not in help_text and "at least 4 repeats" in help_text


def test_a_tie_needs_an_interval_of_at_least_1_minus_2_alpha() -> None:
    two = pair_test([10.0, 10.1], [10.05, 10.0])  # a 67% interval: too weak to state equivalence
    assert two.level == pytest.approx(2 / 3) and two.verdict == "no clear difference"
    assert pair_test([10.0, 10.1, 9.95], [10.05, 10.0, 9.9]).verdict == "tie"  # 90% = 1 - 2 x 0.05
