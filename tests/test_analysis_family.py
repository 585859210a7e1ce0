"""Holm over every decision of a report: known adjusted p-values, and a report of seven backends whose pairs each
pass alone but not as a family of six or more."""

from __future__ import annotations

import pytest

from orchestrator.analysis.holm import holm
from orchestrator.analysis.stats import group_results
from orchestrator.analysis.verdicts.family import decisions
from orchestrator.analysis.verdicts.pairs import pair_test
from orchestrator.analysis.verdicts.workloads import workload_verdicts
from orchestrator.analysis.verdicts import assemble as verdict
from test_verdicts import BASE, repeats


def test_holm_adjusts_step_down_and_keeps_the_order() -> None:
    adjusted = holm({"a": 0.01, "b": 0.04, "c": 0.03, "d": 0.5})
    assert adjusted == pytest.approx({"a": 0.04, "b": 0.09, "c": 0.09, "d": 0.5})
    assert holm({}) == {}


def test_a_difference_that_passes_alone_does_not_pass_among_six_decisions() -> None:
    faster = [t * 0.8 for t in reversed(BASE)]
    alone = pair_test(BASE, faster)
    assert alone.verdict == "faster" and alone.p_value == pytest.approx(2 / 252)
    envs = ["cntk", "theano", "mxnet-keras1", "keras3-jax", "keras3-torch", "keras3-tensorflow"]
    cells = repeats("tensorflow1", "mnist_mlp", BASE)
    for i, env in enumerate(envs):
        cells += repeats(env, "mnist_mlp", [t * (0.8 - 0.01 * i) for t in BASE])
    report = verdict.build(group_results(cells))
    (v,) = report.workloads
    assert len(decisions(report.workloads)) >= 6
    for row in v.rows:
        if row.vs_reference is not None:
            assert row.vs_reference.p_value == pytest.approx(2 / 252)
            assert row.vs_reference.p_adjusted is not None and row.vs_reference.p_adjusted > 0.05
            assert row.vs_reference.verdict == "no clear difference"
    assert "Holm" in report.method
    # the same pair shown as a row and as a claim is one decision, decided alike in both places
    claim = next(j for j in report.claims if j.claim.id == "mlp-mxnet-tf")
    assert claim.test is not None and claim.test.p_adjusted == v.row("mxnet-keras1").vs_reference.p_adjusted


def test_six_repeats_each_pass_the_family() -> None:
    six = BASE + [10.05]
    cells = repeats("tensorflow1", "mnist_mlp", six) + repeats("keras3-jax", "mnist_mlp", [t * 0.8 for t in six])
    (v,) = workload_verdicts(group_results(cells))
    assert v.row("keras3-jax").vs_reference.verdict == "faster"  # type: ignore[union-attr]
