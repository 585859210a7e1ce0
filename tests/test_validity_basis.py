"""What validity is judged on. On synthetic data (`--data synthetic`, or a user's file with no dataset) accuracy
says nothing about training, so backends at chance still count when their loss is finite, and the verdict says it
is speed only. A configuration (`<base>+<name>`) is held to its base, the float32 default run of the same
environment: within ACCURACY_GAP of its test accuracy, whatever the other backends reached."""

from __future__ import annotations

import math

from orchestrator.analysis.stats import group_results, steady_state
from orchestrator.analysis.verdicts.validity import ACCURACY_GAP
from orchestrator.analysis.verdicts.workloads import workload_verdicts
from orchestrator.analysis.verdicts import assemble as verdict_report
from orchestrator.results.schema import (
    CellResult, DataInfo, EnvironmentInfo, EpochMetrics, Metrics, Threads, Timings, WorkloadInfo,
)

TIMES = {"keras3-tensorflow": 1.0, "keras3-jax": 0.7, "keras3-torch": 1.4, "keras3-jax+bf16": 0.6}


def cell(env: str, repeat: int, accuracy: float, source: str = "real", loss: float = 0.3) -> CellResult:
    """One repeat of mnist_mlp (chance 0.1) with a steady state near TIMES[env] (a little spread per repeat)."""
    steady = TIMES[env] * (1 + 0.01 * (repeat - 2))
    epochs_s = [steady * 3, steady, steady]
    base = env.split("+")[0]
    return CellResult(
        run_id="basis", cell_id=f"{env}__mnist_mlp__compare__r{repeat}", status="ok",
        environment=EnvironmentInfo(
            name=env, backend=base.removeprefix("keras3-"), keras_version="3.15.1", python_version="3.11",
            runtime="local",
            configuration={"base": base, "mixed_precision": "mixed_bfloat16"} if "+" in env else None),
        workload=WorkloadInfo(name="mnist_mlp", profile="compare", epochs=3, batch_size=128, repeat=repeat),
        data=DataInfo(source=source, dataset="mnist"),
        timings=Timings(epochs_s=epochs_s, first_epoch_s=epochs_s[0], steady_state_s=steady_state(epochs_s)),
        metrics=Metrics(per_epoch=[EpochMetrics(epoch=i + 1, seconds=s, loss=loss, accuracy=accuracy)
                                   for i, s in enumerate(epochs_s)],
                        test={"accuracy": accuracy, "loss": loss}),
        threads=Threads(requested=2),
    )


def verdict(accuracies: dict[str, float], source: str = "real", loss: float = 0.3):
    cells = [cell(env, i, acc, source, loss) for env, acc in accuracies.items() for i in range(5)]
    (v,) = workload_verdicts(group_results(cells))
    return v, cells


def test_on_synthetic_data_backends_at_chance_count_and_the_verdict_is_speed_only() -> None:
    at_chance = {"keras3-tensorflow": 0.10, "keras3-jax": 0.11, "keras3-torch": 0.09}

    real, _ = verdict(at_chance, "real")  # on real data the same accuracies mean nothing trained
    assert real.fastest is None and all("at chance" in r.validity.describe() for r in real.rows)

    synthetic, cells = verdict(at_chance, "synthetic")
    assert synthetic.fastest is not None and synthetic.fastest.environment == "keras3-jax" and not synthetic.excluded
    assert {r.validity.describe() for r in synthetic.rows} == {
        "valid (synthetic data: finite loss, accuracy not judged)"}
    assert synthetic.gate == "synthetic"
    assert synthetic.statement().endswith("(synthetic data: speed only)")
    assert synthetic.margin is not None and synthetic.margin.verdict == "slower"  # tf 1.43x jax, 5 against 5
    method = verdict_report.build(group_results(cells)).method
    assert "On synthetic data (mnist_mlp (compare): generated inputs and labels" in method


def test_on_synthetic_data_a_nan_loss_still_excludes() -> None:
    v, _ = verdict({"keras3-tensorflow": 0.1, "keras3-jax": 0.1}, "synthetic", loss=math.nan)
    assert v.fastest is None
    assert all(r.validity.describe().startswith("loss went NaN") for r in v.rows)


def test_a_configuration_is_held_to_its_base_not_to_the_other_backends() -> None:
    # bf16 loses 0.12 against its float32 base; the other backends' median (0.80) would have let it pass
    v, _ = verdict({"keras3-tensorflow": 0.80, "keras3-jax": 0.95, "keras3-torch": 0.80, "keras3-jax+bf16": 0.83})
    bf16 = v.row("keras3-jax+bf16")
    assert bf16 is not None and not bf16.validity.valid
    assert bf16.validity.describe() == (f"test accuracy 0.830 is far below its base keras3-jax's 0.950 "
                                        f"(gap over {ACCURACY_GAP:.2f})")
    assert v.fastest is not None and v.fastest.environment == "keras3-jax"  # the faster bf16 row cannot win

    close, _ = verdict({"keras3-tensorflow": 0.80, "keras3-jax": 0.95, "keras3-torch": 0.80, "keras3-jax+bf16": 0.90})
    assert close.fastest is not None and close.fastest.environment == "keras3-jax+bf16" and not close.excluded

    # without its base in the run, a configuration is judged as any backend, against the others' median
    alone, _ = verdict({"keras3-tensorflow": 0.80, "keras3-torch": 0.80, "keras3-jax+bf16": 0.83})
    assert alone.fastest is not None and alone.fastest.environment == "keras3-jax+bf16" and not alone.excluded
    low, _ = verdict({"keras3-tensorflow": 0.95, "keras3-torch": 0.95, "keras3-jax+bf16": 0.83})
    row = low.row("keras3-jax+bf16")
    assert row is not None and "far below the other backends' 0.950 (median" in row.validity.describe()
