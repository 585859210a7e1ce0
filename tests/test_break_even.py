"""Break-even (analysis/break_even.py) and the batch-size sweep (analysis/batch_sweep.py) on constructed results:
a crossover computed from known costs, none when one backend is cheaper on both counts or the steps cost the same,
a backend without costs named, the range from the repeats' intervals; the sweep's crossover line; their text in the
ending and the HTML section (report/choosing.py)."""

from __future__ import annotations

import pytest

from orchestrator.analysis.batch_sweep import SizeResult, Sweep, sweeps
from orchestrator.analysis.break_even import (
    BreakEven, Crossover, Length, Unchanged, backend_cost, break_evens, crossover, steps_per_epoch,
)
from orchestrator.analysis.stats import group_results
from orchestrator.analysis.verdicts.settings import Settings
from orchestrator.analysis.verdicts.workloads import workload_verdicts
from orchestrator.report.choosing import about, crossover_line, ending_lines, html_section, totals_line
from orchestrator.results.schema import (
    CellResult, DataInfo, EnvironmentInfo, EpochMetrics, Metrics, Threads, Timings, WorkloadInfo,
)

BACKENDS = {"keras3-jax": "jax", "keras3-torch": "torch", "keras3-tensorflow": "tensorflow"}


def cell(env: str, repeat: int, first: float, steady: float, samples: int = 1280, batch: int = 128,
         profile: str = "compare", compile_s: float | None = None, status: str = "ok",
         epochs: int = 3) -> CellResult:
    """One repeat: a first epoch of `first` s, then epochs of `steady` s over `samples` samples per epoch."""
    epochs_s = [first] + [steady] * (epochs - 1)
    per_epoch = [EpochMetrics(epoch=i + 1, seconds=s, loss=0.5 - 0.1 * i, val_accuracy=0.9)
                 for i, s in enumerate(epochs_s)]
    return CellResult(
        run_id="constructed", cell_id=f"{env}__my_model__{profile}__r{repeat}", status=status,  # type: ignore[arg-type]
        environment=EnvironmentInfo(name=env, backend=BACKENDS[env], keras_version="3.15.1", python_version="3.11",
                                    runtime="local"),
        workload=WorkloadInfo(name="my_model", profile=profile, epochs=epochs, batch_size=batch, repeat=repeat),
        data=DataInfo(source="real", dataset="mnist"),
        timings=Timings(epochs_s=epochs_s, first_epoch_s=first, steady_state_s=steady if epochs > 1 else None,
                        samples_per_s=samples / steady if epochs > 1 else None, compile_s=compile_s, import_s=2.0),
        metrics=Metrics(per_epoch=per_epoch, test={"accuracy": 0.9, "loss": 0.3}),
        threads=Threads(requested=2),
    )


def verdicts(results: list[CellResult]):  # type: ignore[no-untyped-def]
    return workload_verdicts(group_results(results), Settings(reference="keras3-tensorflow"))


# Steps per epoch: 1280 samples / 128 = 10. keras3-tensorflow: one-off 1 s, 0.1 s a step (1 s an epoch);
# keras3-jax: one-off 9 s, 0.02 s a step. Their lines meet at (9 - 1) / (0.1 - 0.02) = 100 steps.
TF = [cell("keras3-tensorflow", i, first=2.0 + d, steady=1.0 + d / 10) for i, d in enumerate((0.0, 0.1, -0.1))]
JAX = [cell("keras3-jax", i, first=9.2 + d, steady=0.2 + d / 100) for i, d in enumerate((0.0, 0.4, -0.4))]


def test_steps_per_epoch_come_from_the_samples_of_an_epoch_over_the_batch_size() -> None:
    assert steps_per_epoch(TF[0]) == 10
    assert steps_per_epoch(cell("keras3-jax", 0, 2.0, 1.0, samples=1290)) == 11  # a last, partial batch
    profiled = TF[0].model_copy(update={"workload": TF[0].workload.model_copy(update={"steps_per_epoch": 8})})
    assert steps_per_epoch(profiled) == 8


def test_a_crossover_is_where_the_two_lines_meet() -> None:
    tf, jax = backend_cost("keras3-tensorflow", TF), backend_cost("keras3-jax", JAX)
    assert not isinstance(tf, str) and not isinstance(jax, str)
    assert tf.one_off.median == pytest.approx(1.0) and tf.per_step.median == pytest.approx(0.1)
    assert jax.one_off.median == pytest.approx(9.0) and jax.per_step.median == pytest.approx(0.02)
    found = crossover(jax, tf)  # either order
    assert isinstance(found, Crossover)
    assert (found.early, found.late) == ("keras3-tensorflow", "keras3-jax")
    assert found.steps == pytest.approx(100.0)
    assert tf.total(found.steps) == pytest.approx(jax.total(found.steps))
    # The range: the four costs at the ends of their 3-repeat ranges (75% each).
    assert found.low is not None and found.high is not None and found.low < 100 < found.high
    # one-offs: tf 0.91..1.09, jax 8.604..9.396; steps: tf 0.099..0.101, jax 0.0196..0.0204
    assert found.low == pytest.approx((8.604 - 1.09) / (0.101 - 0.0196))
    assert found.high == pytest.approx((9.396 - 0.91) / (0.099 - 0.0204))
    assert found.coverage == pytest.approx(0.75)
    line = crossover_line(found)
    assert line.startswith("keras3-jax overtakes keras3-tensorflow after about 100 steps, about 10 epochs "
                           "(keras3-tensorflow is faster below; range 92 to 110 steps from the repeats' intervals, each at "
                           "least 75%)")


def test_no_crossover_when_one_backend_is_cheaper_on_both_counts_or_the_steps_cost_the_same() -> None:
    slow = [cell("keras3-torch", i, first=12.0, steady=2.0) for i in range(3)]
    tf, torch = backend_cost("keras3-tensorflow", TF), backend_cost("keras3-torch", slow)
    assert not isinstance(tf, str) and not isinstance(torch, str)
    found = crossover(torch, tf)
    assert found == Unchanged("keras3-tensorflow", "keras3-torch", equal_steps=False)
    same_step = backend_cost("keras3-torch", [cell("keras3-torch", i, first=5.0, steady=1.0) for i in range(3)])
    assert not isinstance(same_step, str)
    assert crossover(same_step, tf) == Unchanged("keras3-tensorflow", "keras3-torch", equal_steps=True)


def test_a_crossover_whose_step_intervals_overlap_may_never_happen() -> None:
    close = [cell("keras3-jax", i, first=9.0 + s, steady=s) for i, s in enumerate((0.95, 1.12, 0.9))]
    tf, jax = backend_cost("keras3-tensorflow", TF), backend_cost("keras3-jax", close)
    found = crossover(tf, jax)
    assert isinstance(found, Crossover) and found.high is None  # the step costs' intervals overlap
    assert "to never" in crossover_line(found)
    one = crossover(backend_cost("keras3-tensorflow", TF[:1]), backend_cost("keras3-jax", JAX[:1]))  # type: ignore[arg-type]
    assert isinstance(one, Crossover) and one.low is None and "one repeat: no range" in crossover_line(one)


def test_a_backend_without_costs_is_left_out_of_the_pairs_and_named() -> None:
    one_epoch = [cell("keras3-torch", i, first=3.0, steady=3.0, epochs=1) for i in range(3)]
    [found] = break_evens(verdicts(TF + JAX + one_epoch))  # torch: excluded by the verdict (no steady state)
    assert [c.environment for c in found.costs] == ["keras3-jax", "keras3-tensorflow"]
    assert len(found.crossovers) == 1 and not found.unchanged and found.missing == {}
    uncounted = [cell("keras3-torch", i, first=3.0, steady=1.0) for i in range(3)]
    uncounted = [r.model_copy(update={"timings": r.timings.model_copy(update={"samples_per_s": None})})
                 for r in uncounted]  # valid, but neither the samples of an epoch nor fit ms/step recorded
    [found] = break_evens(verdicts(TF + JAX + uncounted))
    assert list(found.missing) == ["keras3-torch"] and len(found.crossovers) == 1
    assert "keras3-torch: no break-even (no repeat with a steady state and a step count" in \
        html_section([found], [], Length())
    with_fit = [r.model_copy(update={"timings": r.timings.model_copy(update={"fit_ms_per_step": 50.0})})
                for r in uncounted]
    cost = backend_cost("keras3-torch", with_fit)
    assert not isinstance(cost, str) and cost.per_step.median == pytest.approx(0.05)
    assert cost.per_step_from == "fit ms/step" and cost.steps_per_epoch is None


def test_totals_for_a_length_in_steps_or_epochs() -> None:
    [found] = break_evens(verdicts(TF + JAX))
    assert found.totals(Length(steps=50)) == [("keras3-tensorflow", pytest.approx(6.0)),
                                               ("keras3-jax", pytest.approx(10.0))]
    assert found.totals(Length(epochs=100)) == [("keras3-jax", pytest.approx(29.0)),
                                                 ("keras3-tensorflow", pytest.approx(101.0))]
    assert totals_line(found, Length(steps=50)) == \
        "for 50 steps (predicted): keras3-tensorflow 6 s, keras3-jax 10 s"
    lines = ending_lines([found], [], Length(steps=50))
    assert lines[1].startswith("keras3-jax overtakes keras3-tensorflow after about 100 steps")
    assert ending_lines([found], [], Length()) == []  # without a length the ending adds nothing
    page = html_section([found], [], Length())
    assert "keras3-jax overtakes keras3-tensorflow after about 100 steps" in page and "total s for" not in page


def test_about_rounds_to_two_significant_figures() -> None:
    assert [about(x) for x in (0.4, 7.4, 100.0, 1873.0, 123456.0)] == ["less than 1", "7", "100", "1,900",
                                                                          "120,000"]


def test_the_batch_sweep_says_where_the_fastest_backend_changes() -> None:
    results = []
    for size, (jax_s, torch_s) in {32: (1.0, 1.5), 128: (1.0, 1.3), 512: (1.0, 0.6)}.items():
        profile = f"compare.bs{size}"
        results += [cell("keras3-jax", i, 3.0, jax_s * (1 + i / 100), batch=size, profile=profile) for i in range(3)]
        results += [cell("keras3-torch", i, 3.0, torch_s * (1 + i / 100), batch=size, profile=profile)
                    for i in range(3)]
    [sweep] = sweeps(verdicts(results))
    assert (sweep.workload, sweep.profile) == ("my_model", "compare")
    assert [s.size for s in sweep.sizes] == [32, 128, 512]
    assert sweep.winners == {"keras3-jax": [32, 128], "keras3-torch": [512]}
    assert sweep.line().startswith("keras3-torch is fastest at 512; keras3-jax at 32 and 128 on my_model (compare)")
    assert "(by median only, not a decided lead, at 32, 128 and 512)" in sweep.line()  # 3 repeats: p = 0.1


def test_a_sweep_with_one_winner_says_so_and_a_single_size_is_no_sweep() -> None:
    same = Sweep("m", "smoke", [SizeResult(32, "smoke.bs32", "keras3-jax", True),
                                SizeResult(128, "smoke.bs128", "keras3-jax", True)])
    assert same.line() == "keras3-jax is fastest at every batch size (32, 128) on m (smoke)"
    assert sweeps(verdicts([cell("keras3-jax", 0, 3.0, 1.0, profile="compare.bs32")])) == []
    assert sweeps(verdicts(TF + JAX)) == []  # not a sweep: plain profile


def test_an_empty_break_even_renders_nothing() -> None:
    assert html_section([BreakEven("m", "p", [])], [], Length()) == ""
