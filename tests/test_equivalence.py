"""The equivalence check compared across backends (orchestrator/analysis/equivalence.py) and what validity makes of it
(analysis/verdicts/validity.py): a backend that computes another model is excluded with its numbers; where every
backend is at chance on the test set but they computed the same model, the speed verdict stands with a named note.
Constructed results only; the real cells are tests/test_equivalence_cells.py's."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from orchestrator.analysis.equivalence import (
    TOLERANCE_FLOAT32,
    TOLERANCE_MIXED,
    compare,
    judge,
    tolerance,
)
from orchestrator.analysis.stats import group_results, steady_state
from orchestrator.analysis.verdicts import assemble as verdict_report
from orchestrator.analysis.verdicts.validity import CHANCE_EVERYWHERE
from orchestrator.analysis.verdicts.workloads import workload_verdicts
from orchestrator.report.ending import chance_notes, exclusion_lines
from orchestrator.results.schema import (
    CellResult,
    DataInfo,
    EnvironmentInfo,
    EpochMetrics,
    Metrics,
    Threads,
    Timings,
    WorkloadInfo,
)

OUTPUTS = [0.1 * (i % 10) + 0.01 * i / 40 for i in range(40)]
TIMES = {"keras3-tensorflow": 1.0, "keras3-jax": 0.7, "keras3-torch": 1.4}


def record(scale: float = 0.0, loss: float = 2.30, grad: float = 0.25, batch: str = "b" * 64,
           weights: str = "w" * 64, policy: str = "float32", outputs: list[float] | None = None) -> dict[str, Any]:
    """One backend's equivalence record; `scale` moves every output value by that fraction of the largest."""
    values = outputs if outputs is not None else [v + scale * max(OUTPUTS) for v in OUTPUTS]
    return {"batch": {"sha256": batch, "samples": 8}, "weights_sha256": weights, "dtype_policy": policy,
            "outputs": {"shape": [4, 10], "sample": values}, "loss": loss, "grad_norm": grad, "errors": {}}


# ------------------------------------------------------------------------------------------------ the comparison


def test_three_backends_the_one_off_the_consensus_differs_with_its_numbers() -> None:
    found = compare({"keras3-tensorflow": record(), "keras3-jax": record(2e-7), "keras3-torch": record(0.31)})
    assert found["keras3-tensorflow"].passed and found["keras3-jax"].passed
    torch = found["keras3-torch"]
    assert torch.status == "differs"
    assert torch.reason == "outputs differ by 0.24 from the other backends' (tolerance 1e-04)"
    assert dict(torch.differences)["outputs"] == pytest.approx(0.31 / 1.31)  # of the largest value
    assert found["keras3-jax"].reason.startswith("outputs, loss and gradient norm within 1e-04 of the other")


def test_loss_and_gradient_norm_are_compared_too() -> None:
    found = compare({"a": record(), "b": record(), "c": record(loss=2.40, grad=0.3)})
    assert found["c"].status == "differs"
    assert found["c"].reason == ("loss differs by 0.042 from the other backends' (tolerance 1e-04; gradient norm "
                                 "by 0.17)")  # 0.1 / 2.4 and 0.05 / 0.3: of the larger value
    assert found["a"].passed and found["b"].passed


def test_two_backends_that_disagree_are_told_they_disagree_with_each_other() -> None:
    found = compare({"keras3-jax": record(), "keras3-torch": record(0.31)})
    assert {o.status for o in found.values()} == {"differs"}
    assert found["keras3-jax"].reason == ("keras3-jax and keras3-torch disagree with each other: outputs differ by "
                                          "0.24 (tolerance 1e-04); with two backends the check cannot tell which is "
                                          "right")
    agree = compare({"keras3-jax": record(), "keras3-torch": record(1e-7)})
    assert all(o.passed for o in agree.values())


def test_other_inputs_cannot_be_compared_and_are_not_called_different() -> None:
    found = compare({"a": record(), "b": record(), "c": record(0.5, batch="c" * 64)})
    assert found["a"].passed and found["b"].passed
    assert found["c"].status == "not compared"
    assert found["c"].reason.startswith("the equivalence check could not compare it: its batch differ")
    two = compare({"a": record(), "b": record(weights="v" * 64)})
    assert {o.status for o in two.values()} == {"not compared"}
    assert "did not see the same batch and weights" in two["a"].reason
    alone = compare({"a": record()})
    assert alone["a"].reason.endswith("no other backend recorded one")


def test_a_check_that_failed_on_a_backend_is_not_compared() -> None:
    broken = {"errors": {"setup": "ValueError: no"}, "dtype_policy": "float32"}
    found = compare({"a": record(), "b": record(), "c": broken})
    assert found["c"].status == "not compared" and "setup: ValueError: no" in found["c"].reason
    assert found["a"].passed


def test_the_tolerance_follows_the_dtype_policy() -> None:
    assert tolerance("float32") == tolerance(None) == TOLERANCE_FLOAT32
    assert tolerance("mixed_bfloat16") == tolerance("mixed_float16") == TOLERANCE_MIXED
    within = compare({"a": record(), "b": record(), "c": record(TOLERANCE_FLOAT32 / 2)})
    assert within["c"].passed
    beyond = compare({"a": record(), "b": record(), "c": record(TOLERANCE_FLOAT32 * 2)})
    assert beyond["c"].status == "differs"
    # a bf16 configuration is judged with the wide tolerance against the float32 backends' consensus
    bf16 = compare({"a": record(), "b": record(), "a+bf16": record(0.01, policy="mixed_bfloat16")})
    assert bf16["a+bf16"].passed and bf16["a"].passed and bf16["b"].passed
    bad = compare({"a": record(), "b": record(), "a+bf16": record(0.2, policy="mixed_bfloat16")})
    assert bad["a+bf16"].status == "differs" and "(tolerance 5e-02)" in bad["a+bf16"].reason


def test_on_a_gpu_float32_gets_the_wide_tolerance() -> None:
    """TensorFlow and JAX multiply float32 in TF32 on Ampere and newer GPUs by default; the CPU measurements that
    set the narrow tolerance do not cover that."""
    assert tolerance("float32", "gpu") == TOLERANCE_MIXED and tolerance("float32", "cpu") == TOLERANCE_FLOAT32
    gpu = {env: {**record(s), "device": "gpu"} for env, s in (("a", 0.0), ("b", 0.0), ("c", 3e-3))}
    assert compare(gpu)["c"].passed
    cpu = {env: {**record(s), "device": "cpu"} for env, s in (("a", 0.0), ("b", 0.0), ("c", 3e-3))}
    assert compare(cpu)["c"].status == "differs"
    cells = run({env: 0.9 for env in TIMES}, {"keras3-tensorflow": record(), "keras3-jax": record(3e-3),
                                              "keras3-torch": record()})
    on_gpu = [c.model_copy(update={"host": c.host.model_copy(update={"framework_device": {"kind": "gpu"}})})
              for c in cells]
    assert judge(group_results(on_gpu))["keras3-jax"].passed
    assert judge(group_results(cells))["keras3-jax"].status == "differs"


def test_outputs_that_are_not_finite_on_one_backend_differ() -> None:
    nan = [math.nan] + OUTPUTS[1:]
    found = compare({"a": record(), "b": record(), "c": record(outputs=nan)})
    assert found["c"].status == "differs" and "outputs differ by inf" in found["c"].reason


# ------------------------------------------------------------------------------------- validity, on real results


def cell(env: str, repeat: int, accuracy: float, equivalence: dict[str, Any] | None,
         losses: tuple[float, float] = (2.1, 1.85)) -> CellResult:
    """One repeat of a user's BatchNorm model on real MNIST (chance 0.1): training loss falling."""
    steady = TIMES[env] * (1 + 0.01 * (repeat - 2))
    epochs_s = [steady * 3, steady]
    return CellResult(
        run_id="eq", cell_id=f"{env}__batchnorm_model__brief__r{repeat}", status="ok",
        environment=EnvironmentInfo(name=env, backend=env.removeprefix("keras3-"), keras_version="3.15.1",
                                    python_version="3.11", runtime="local"),
        workload=WorkloadInfo(name="batchnorm_model", profile="brief", epochs=2, batch_size=16, repeat=repeat),
        data=DataInfo(source="real", dataset="mnist"),
        timings=Timings(epochs_s=epochs_s, first_epoch_s=epochs_s[0], steady_state_s=steady_state(epochs_s)),
        metrics=Metrics(per_epoch=[EpochMetrics(epoch=i + 1, seconds=s, loss=loss, accuracy=0.4, val_accuracy=accuracy)
                                   for i, (s, loss) in enumerate(zip(epochs_s, losses))],
                        test={"accuracy": accuracy, "loss": 2.4}),
        equivalence=equivalence,
        threads=Threads(requested=2),
    )


def run(accuracy: dict[str, float], checks: dict[str, dict[str, Any] | None] | None = None,
        losses: dict[str, tuple[float, float]] | None = None) -> list[CellResult]:
    checks = checks if checks is not None else {env: record() for env in TIMES}
    return [cell(env, i, accuracy[env], checks.get(env), (losses or {}).get(env, (2.1, 1.85)))
            for env in TIMES for i in range(5)]


AT_CHANCE = {"keras3-tensorflow": 0.137, "keras3-jax": 0.137, "keras3-torch": 0.09}


def test_at_chance_everywhere_but_the_same_model_the_speed_verdict_stands_with_its_note() -> None:
    cells = run(AT_CHANCE)
    (v,) = workload_verdicts(group_results(cells))
    assert not v.excluded and v.fastest is not None and v.fastest.environment == "keras3-jax"
    assert v.gate == "equivalence"
    assert {r.validity.describe() for r in v.rows} == {
        "valid by the equivalence check and training loss (accuracy at chance on every backend)"}
    assert v.statement().endswith("(accuracy at chance on every backend, same computation checked: speed only)")
    report = verdict_report.build(group_results(cells))
    assert chance_notes(report) == [f"note: {CHANCE_EVERYWHERE}"]
    assert "BatchNorm moving statistics not settled" in CHANCE_EVERYWHERE
    assert "On batchnorm_model (brief) the test accuracy is at chance on every backend" in report.method


def test_the_same_run_without_equivalence_records_is_no_valid_backend_as_before() -> None:
    (v,) = workload_verdicts(group_results(run(AT_CHANCE, checks={})))
    assert v.fastest is None and len(v.excluded) == 3
    assert all("at chance" in r.validity.describe() for r in v.rows)
    assert v.statement() == "no valid backend with a steady state"


def test_one_backend_at_chance_while_the_others_learned_is_still_excluded() -> None:
    (v,) = workload_verdicts(group_results(run({**AT_CHANCE, "keras3-tensorflow": 0.91, "keras3-torch": 0.90})))
    jax = v.row("keras3-jax")
    assert jax is not None and not jax.validity.valid and "at chance" in jax.validity.describe()
    assert v.gate == "accuracy" and v.fastest is not None and v.fastest.environment == "keras3-tensorflow"


def test_a_backend_that_computes_another_model_is_excluded_with_its_numbers() -> None:
    cells = run({env: 0.9 for env in TIMES},
                {"keras3-tensorflow": record(), "keras3-jax": record(0.31), "keras3-torch": record(1e-7)})
    (v,) = workload_verdicts(group_results(cells))
    jax = v.row("keras3-jax")
    assert jax is not None and jax.validity.describe() == (
        "equivalence check: outputs differ by 0.24 from the other backends' (tolerance 1e-04)")
    assert v.fastest is not None and v.fastest.environment == "keras3-tensorflow"
    report = verdict_report.build(group_results(cells))
    assert ("excluded: keras3-jax: equivalence check: outputs differ by 0.24 from the other backends' "
            "(tolerance 1e-04)") in exclusion_lines(report, {})


def test_at_chance_everywhere_a_backend_off_the_others_is_excluded_and_the_rest_count() -> None:
    cells = run(AT_CHANCE, {"keras3-tensorflow": record(), "keras3-jax": record(0.31), "keras3-torch": record()})
    (v,) = workload_verdicts(group_results(cells))
    assert [r.environment for r in v.excluded] == ["keras3-jax"]
    assert v.fastest is not None and v.fastest.environment == "keras3-tensorflow" and v.gate == "equivalence"


def test_at_chance_everywhere_the_training_loss_must_still_track_the_others() -> None:
    cells = run(AT_CHANCE, losses={"keras3-torch": (2.3, 2.31)})
    (v,) = workload_verdicts(group_results(cells))
    torch = v.row("keras3-torch")
    assert torch is not None and torch.validity.describe() == \
        "training loss did not fall (2.3 in the first epoch, 2.31 in the last)"


def test_the_worst_repeat_decides() -> None:
    cells = run({env: 0.9 for env in TIMES})
    cells[-1] = cells[-1].model_copy(update={"equivalence": record(0.2)})  # keras3-torch's last repeat
    groups = group_results(cells)
    found = judge(groups)
    assert found["keras3-torch"].status == "differs" and found["keras3-jax"].passed


def test_results_without_the_field_still_load_and_the_record_round_trips() -> None:
    old = cell("keras3-jax", 0, 0.9, None).model_dump(mode="json")
    del old["equivalence"]
    assert CellResult.model_validate(old).equivalence is None
    new = cell("keras3-jax", 0, 0.9, record())
    assert CellResult.model_validate(json.loads(new.model_dump_json())).equivalence == record()
