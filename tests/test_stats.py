"""Statistics: intervals for the median, the noise flag, time to accuracy, grouping repeats, comparing runs."""

from __future__ import annotations

import pytest

from orchestrator.results.schema import (
    CellResult, EnvironmentInfo, EpochMetrics, Metrics, Threads, Timings, WorkloadInfo,
)
from orchestrator.analysis.stats import estimate, group_results, median_ci, steady_state, time_to_accuracy
from orchestrator.analysis.verdicts.comparison import compare_runs


def cell(env: str, repeat: int, epochs_s: list[float], status: str = "ok", val_acc: list[float] | None = None,
         workload: str = "mnist_mlp", profile: str = "quick") -> CellResult:
    per_epoch = [EpochMetrics(epoch=i + 1, seconds=s, val_accuracy=(val_acc or [None] * len(epochs_s))[i])
                 for i, s in enumerate(epochs_s)]
    return CellResult(
        run_id="run", cell_id=f"{env}__{workload}__{profile}__r{repeat}", status=status,
        environment=EnvironmentInfo(name=env, backend=env.split("-")[-1], keras_version="3.15.1",
                                    python_version="3.11", runtime="local"),
        workload=WorkloadInfo(name=workload, profile=profile, epochs=len(epochs_s), batch_size=128, repeat=repeat),
        timings=Timings(epochs_s=epochs_s, first_epoch_s=epochs_s[0] if epochs_s else None,
                        steady_state_s=steady_state(epochs_s), samples_per_s=1000 / steady_state(epochs_s)
                        if len(epochs_s) > 1 else None),
        metrics=Metrics(per_epoch=per_epoch, test={"accuracy": 0.9 + repeat / 100}),
        threads=Threads(requested=2),
    )


def test_median_interval_by_order_statistics_from_six_values() -> None:
    values = [10.0, 11.0, 9.0, 12.0, 10.5, 9.5, 30.0, 10.2, 9.8, 10.1]
    low, high, method, coverage = median_ci(values)
    # n = 10: P(Binomial(10, 1/2) <= 1) = 1.07% <= 2.5% < P(<= 2) = 5.5%, so (x_(2), x_(9)).
    ordered = sorted(values)
    assert (low, high) == (ordered[1], ordered[8]) and method.startswith("order statistics")
    assert coverage == pytest.approx(1 - 2 * 11 / 1024)
    assert median_ci([1.0, 2, 3, 4, 5, 6])[:2] == (1.0, 6.0)  # n = 6: the extremes (96.9% coverage)


def test_few_repeats_give_their_range_with_its_coverage_and_one_repeat_no_interval() -> None:
    low, high, method, coverage = median_ci([1.0, 1.2, 1.1])
    assert (low, high, method) == (1.0, 1.2, "range of the repeats") and coverage == pytest.approx(0.75)
    assert median_ci([2.0]) == (None, None, "one repeat: no interval", None)
    one = estimate([2.0], "repeats")
    assert one is not None and not one.has_interval and one.describe() == "2 (one repeat: no interval)"
    three = estimate([1.0, 1.2, 1.1], "repeats")
    assert three is not None and three.describe() == "1.1 [1, 1.2] 75%"


def test_noise_flag_follows_the_spread() -> None:
    tight = estimate([1.00, 1.01, 0.99, 1.00], "repeats")
    wide = estimate([1.0, 1.3, 0.8, 1.1], "repeats")
    assert tight is not None and not tight.noisy and tight.cv is not None and tight.cv < 0.02
    assert wide is not None and wide.noisy
    assert estimate([1.0, 1.3, 0.8, 1.1], "repeats", noise_cv=0.5).noisy is False  # type: ignore[union-attr]
    assert estimate([], "repeats") is None


def test_time_to_accuracy_counts_training_seconds_up_to_the_first_epoch_reaching_the_target() -> None:
    epochs = [EpochMetrics(epoch=1, seconds=3.0, val_accuracy=0.90),
              EpochMetrics(epoch=2, seconds=2.0, val_accuracy=0.96),
              EpochMetrics(epoch=3, seconds=2.0, val_accuracy=0.97)]
    reached = time_to_accuracy(epochs, 0.95)
    assert (reached.epoch, reached.seconds) == (2, 5.0)
    missed = time_to_accuracy(epochs, 0.99)
    assert missed.epoch is None and missed.seconds is None


def test_repeats_are_grouped_and_aggregated() -> None:
    results = [
        cell("keras3-jax", 0, [5.0, 1.0, 1.1, 1.0], val_acc=[0.9, 0.95, 0.96, 0.97]),
        cell("keras3-jax", 1, [5.2, 1.2, 1.2, 1.3], val_acc=[0.9, 0.94, 0.96, 0.97]),
        cell("keras3-jax", 2, [5.1, 1.1, 1.1, 1.1], val_acc=[0.9, 0.93, 0.95, 0.97]),
        cell("keras3-torch", 0, [9.0, 2.0, 2.2, 2.1]),
        cell("keras3-torch", 1, [], status="failed"),
    ]
    jax, torch = group_results(results, targets={"mnist_mlp": 0.95})
    assert jax.key == ("keras3-jax", "mnist_mlp", "quick") and jax.status == "ok"
    assert jax.steady is not None and jax.steady.basis == "repeats" and jax.steady.n == 3
    assert jax.steady.median == pytest.approx(1.1)  # repeats' steady states: 1.0, 1.2, 1.1
    assert jax.steady.low is not None and jax.steady.low < 1.1 < jax.steady.high  # type: ignore[operator]
    assert jax.first_epoch is not None and jax.first_epoch.median == pytest.approx(5.1)
    assert jax.test_accuracy == pytest.approx(0.91)
    assert [t.epoch for t in jax.tta] == [2, 3, 3] and jax.tta_median_s == pytest.approx(7.3)  # 6.0, 7.6, 7.3
    # One ok repeat of two: no interval (never one from the epochs inside a process); the failure shows.
    assert torch.status == "ok 1, failed 1" and len(torch.ok) == 1
    assert torch.steady is not None and torch.steady.n == 1 and not torch.steady.has_interval
    assert torch.steady.median == pytest.approx(2.1)
    assert torch.tta and torch.tta_median_s is None  # never reached (no validation accuracy)


def test_compare_runs_matches_keys_and_lists_the_rest() -> None:
    run_a = group_results([cell("keras3-jax", r, [5, 1.0 + r / 100, 1.0, 1.0]) for r in range(6)]
                          + [cell("keras3-torch", 0, [5, 2, 2])])
    run_b = group_results([cell("keras3-jax", r, [5, 2.0 + r / 100, 2.0, 2.0]) for r in range(6)]
                          + [cell("keras3-tensorflow", 0, [5, 2, 2])])
    shared, only_a, only_b = compare_runs(run_a, run_b)
    assert [c.key for c in shared] == [("keras3-jax", "mnist_mlp", "quick")]
    assert shared[0].test.verdict == "slower" and shared[0].test.ratio == pytest.approx(2.0)
    assert only_a == [("keras3-torch", "mnist_mlp", "quick")]
    assert only_b == [("keras3-tensorflow", "mnist_mlp", "quick")]
