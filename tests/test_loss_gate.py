"""`validity: loss`: a profile of random-weight models trained too briefly to leave chance (modern-cpu) is judged
on training loss instead of test accuracy. A backend counts when its loss is finite, falls from the first epoch to
the last and ends near the other backends'; the verdict, the validity column and the method say it is speed only.
The accuracy gate is unchanged for every other profile."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml

from orchestrator.analysis.stats import group_results, steady_state
from orchestrator.analysis.verdicts.settings import Settings
from orchestrator.analysis.verdicts.workloads import workload_verdicts
from orchestrator.cli import main
from orchestrator.workflows.report import read_settings, save_settings
from orchestrator.workflows.run import run_settings
from orchestrator.core.errors import ConfigError
from orchestrator.config.load import load_matrix
from orchestrator.analysis.verdicts import assemble as verdict_report
from orchestrator.results.schema import (
    CellResult, DataInfo, EnvironmentInfo, EpochMetrics, Metrics, Threads, Timings, WorkloadInfo,
)
from orchestrator.rundir.layout import RunDir

BACKENDS = {"keras3-tensorflow": "tensorflow", "keras3-jax": "jax", "keras3-torch": "torch"}
GATED = Settings(loss_gate=("modern-cpu",))
TIMES = {"keras3-tensorflow": [1.00, 1.01, 0.99, 1.02, 0.98, 1.00],
         "keras3-jax": [0.70, 0.71, 0.69, 0.72, 0.68, 0.70],
         "keras3-torch": [1.40, 1.41, 1.39, 1.42, 1.38, 1.40]}


def cell(env: str, repeat: int, steady: float, losses: tuple[float, float, float] = (2.9, 2.5, 2.2),
         accuracy: float = 0.109) -> CellResult:
    """One repeat of BERT on bAbI (chance 1/6) at modern-cpu's size: test accuracy at chance, loss falling."""
    epochs_s = [steady * 8, steady, steady]
    per_epoch = [EpochMetrics(epoch=i + 1, seconds=s, loss=loss, accuracy=accuracy)
                 for i, (s, loss) in enumerate(zip(epochs_s, losses))]
    return CellResult(
        run_id="gated", cell_id=f"{env}__bert_classifier__modern-cpu__r{repeat}", status="ok",
        environment=EnvironmentInfo(name=env, backend=BACKENDS[env], keras_version="3.15.1", python_version="3.11",
                                    runtime="local"),
        workload=WorkloadInfo(name="bert_classifier", profile="modern-cpu", epochs=3, batch_size=32, repeat=repeat),
        data=DataInfo(source="real", dataset="babi"),
        timings=Timings(epochs_s=epochs_s, first_epoch_s=epochs_s[0], steady_state_s=steady_state(epochs_s)),
        metrics=Metrics(per_epoch=per_epoch, test={"accuracy": accuracy, "loss": losses[-1]}),
        threads=Threads(requested=2),
    )


def run(**losses: tuple[float, float, float]) -> list[CellResult]:
    """Six repeats of each backend; `losses` overrides one backend's per-epoch training losses (env_name=...)."""
    return [cell(env, i, t, losses.get(env.replace("-", "_"), (2.9, 2.5, 2.2)))
            for env, times in TIMES.items() for i, t in enumerate(times)]


def test_random_weight_models_at_chance_are_excluded_by_the_accuracy_gate_but_judged_by_the_loss_gate() -> None:
    (accuracy,) = workload_verdicts(group_results(run()))
    assert accuracy.fastest is None and len(accuracy.excluded) == 3
    assert all("at chance" in r.validity.describe() for r in accuracy.rows)

    (loss,) = workload_verdicts(group_results(run()), GATED)
    assert loss.fastest is not None and loss.fastest.environment == "keras3-jax" and not loss.excluded
    assert loss.margin is not None and loss.margin.verdict == "slower"  # tf takes 1.43x jax's time, 6 against 6
    assert all(r.validity.describe() == "valid by training loss (accuracy not judged)" for r in loss.rows)
    assert loss.statement().startswith("keras3-jax fastest")
    assert loss.statement().endswith("(validity by training loss: speed only)")
    assert loss.statement(short=True).endswith("(validity by training loss: speed only)")


def test_the_loss_gate_excludes_a_backend_whose_loss_does_not_fall_or_ends_far_above_the_others() -> None:
    (flat,) = workload_verdicts(group_results(run(keras3_jax=(2.2, 2.3, 2.25))), GATED)  # near the others' end
    jax = flat.row("keras3-jax")
    assert jax is not None and not jax.validity.valid
    assert jax.validity.describe() == "training loss did not fall (2.2 in the first epoch, 2.25 in the last)"
    assert flat.fastest is not None and flat.fastest.environment == "keras3-tensorflow"  # the fast one can't win

    (high,) = workload_verdicts(group_results(run(keras3_jax=(4.4, 4.0, 3.5))), GATED)
    jax = high.row("keras3-jax")
    assert jax is not None and jax.validity.describe() == \
        "final training loss 3.5 is far above the other backends' 2.2 (median; over 50% above)"
    assert high.fastest is not None and high.fastest.environment == "keras3-tensorflow"


def test_keras3_tensorflow_is_the_reference_where_tensorflow1_did_not_run() -> None:
    cells = sorted(run(), key=lambda r: r.environment.name)  # as a run folder loads them: keras3-jax first
    (v,) = workload_verdicts(group_results(cells), Settings(reference="tensorflow1"))
    assert v.reference == "keras3-tensorflow"
    jax = v.row("keras3-jax")
    assert jax is not None and jax.vs_reference is not None and jax.vs_reference.ratio == pytest.approx(0.7)


def test_a_backend_that_trains_at_another_pace_stays_valid() -> None:
    """ResNet-50 as measured (modern-e4): TensorFlow's loss ends at 1.36-1.49, JAX's and PyTorch's at 2.1-2.75 per
    repeat. At JAX's 2.5 a 25% gap (the first choice) would exclude it: 2.5 > 1.25 x median(1.47, 2.29)."""
    (v,) = workload_verdicts(group_results(run(keras3_tensorflow=(4.35, 2.8, 1.47), keras3_jax=(4.24, 3.1, 2.5),
                                               keras3_torch=(4.32, 3.2, 2.29))), GATED)
    assert not v.excluded


def test_a_nan_loss_is_excluded_under_the_loss_gate_too() -> None:
    (v,) = workload_verdicts(group_results(run(keras3_jax=(2.9, math.nan, math.nan))), GATED)
    jax = v.row("keras3-jax")
    assert jax is not None and jax.validity.describe() == "loss went NaN (repeat 0, epoch 2)"


def test_the_method_names_the_gated_profiles_only_when_a_verdict_uses_them() -> None:
    gated = verdict_report.build(group_results(run()), GATED)
    assert "Profiles declared `validity: loss` (modern-cpu: random-weight models" in gated.method
    assert "speed only" in gated.method
    assert "validity: loss" not in verdict_report.build(group_results(run()), Settings()).method


def test_the_matrix_declares_the_gate_per_profile_and_the_run_saves_it(repo: Path, tmp_path: Path) -> None:
    loaded = load_matrix(repo / "matrix.yaml")
    assert loaded.matrix.profiles["modern-cpu"].validity == "loss"
    assert loaded.matrix.profiles["compare"].validity == "accuracy"
    settings = run_settings(loaded, profile="modern-cpu", budget=None)
    assert "modern-cpu" in settings.loss_gate and "compare" not in settings.loss_gate

    results = RunDir(tmp_path, "gated")
    results.ensure_writable()
    for result in run():
        results.write_cell(result)
    save_settings(results.path, settings)
    assert read_settings(results.path).loss_gate == settings.loss_gate
    assert main(["report", str(results.path)]) == 0  # `report` judges the run as `run` did
    page = (results.path / "report" / "report.html").read_text()
    assert "keras3-jax fastest: keras3-tensorflow takes 1.43x its time" in page
    assert "time relative to keras3-tensorflow" in page
    assert "(validity by training loss: speed only)" in page
    assert page.count("valid by training loss (accuracy not judged)") == 3


def test_an_unknown_validity_is_refused_naming_the_profile_and_field(repo: Path, tmp_path: Path) -> None:
    raw = yaml.safe_load((repo / "matrix.yaml").read_text())
    raw["profiles"]["modern-cpu"]["validity"] = "speed"
    bad = tmp_path / "matrix.yaml"
    bad.write_text(yaml.safe_dump(raw))
    with pytest.raises(ConfigError) as error:
        load_matrix(bad)
    assert "profiles.modern-cpu.validity" in str(error.value) and "'accuracy' or 'loss'" in str(error.value)
