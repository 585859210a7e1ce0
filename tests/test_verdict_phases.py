"""Verdicts per phase on constructed results: prediction (predict ms/step per repeat) and generation (time per
generated token, from tokens/s) decided apart from training, in the report's one Holm family; validity inherited
from training, an inference-only environment counted to predict; results without those measures judged on
training alone; the verdict tables and the ending say which backend is fastest to train, to predict and to
generate."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from rich.console import Console

from orchestrator.analysis.sequential import next_round
from orchestrator.analysis.stats import group_results
from orchestrator.analysis.verdicts.assemble import VerdictReport, build
from orchestrator.analysis.verdicts.family import decisions, pair_states
from orchestrator.analysis.verdicts.settings import Settings
from orchestrator.analysis.verdicts.workloads import workload_verdicts
from orchestrator.report import ending, html, terminal
from orchestrator.results.schema import CellResult, Timings
from test_verdicts import BASE, repeats

SIX = BASE + [10.05]
P_SIX = 2 / 924  # the exact two-sided p of 6 against 6, completely separated


def _training(workload: str = "my_model", **kw: float) -> list[CellResult]:
    """keras3-jax 20% faster to train than keras3-tensorflow, keras3-torch 30% slower; six repeats each."""
    return (repeats("keras3-tensorflow", workload, SIX, **kw)
            + repeats("keras3-jax", workload, [t * 0.8 for t in SIX], **kw)
            + repeats("keras3-torch", workload, [t * 1.3 for t in SIX], **kw))


def _timed(cells: list[CellResult], predict: dict[str, float] | None = None,
           tokens: dict[str, float] | None = None) -> list[CellResult]:
    """Record predict ms/step and generated tokens/s per repeat (a 1% spread over the repeats)."""
    for c in cells:
        spread = 1 + 0.01 * ((c.workload.repeat * 7) % 6)
        if predict and c.environment.name in predict:
            c.timings.predict_ms_per_step = predict[c.environment.name] * spread
        if tokens and c.environment.name in tokens:
            c.metrics.test["generate_tokens_per_s"] = tokens[c.environment.name] / spread
    return cells


def _ending(report: VerdictReport) -> str:
    console = Console(record=True, width=250)
    ending.print_ending(report, Path("report.html"), console)
    return console.export_text()


def test_prediction_is_decided_apart_from_training() -> None:
    """keras3-jax trains fastest but predicts twice as slowly as keras3-tensorflow: two verdicts that differ."""
    cells = _timed(_training(), predict={"keras3-tensorflow": 20.0, "keras3-jax": 40.0, "keras3-torch": 30.0})
    report = build(group_results(cells))
    (train,) = report.workloads
    predict = report.phase("my_model", "compare", "predict")
    assert predict is not None and predict.phase == "predict" and report.phases == [predict]  # no tokens: no generate
    assert train.fastest is not None and train.fastest.environment == "keras3-jax"
    assert predict.fastest is not None and predict.fastest.environment == "keras3-tensorflow"
    assert train.row("keras3-jax").vs_reference.verdict == "faster"  # type: ignore[union-attr]
    jax = predict.row("keras3-jax")
    assert jax is not None and jax.vs_reference is not None and jax.vs_reference.verdict == "slower"
    assert jax.vs_reference.ratio == pytest.approx(2.0) and jax.median == pytest.approx(40.0 * 1.025)
    assert [r.environment for r in predict.rows] == ["keras3-tensorflow", "keras3-torch", "keras3-jax"]
    assert predict.runner_up is not None and predict.runner_up.environment == "keras3-torch"
    assert predict.margin is not None and predict.margin.verdict == "slower"  # torch takes 1.5x tensorflow's time
    text = _ending(report)
    assert "keras3-jax is fastest to train: keras3-tensorflow takes 1.25x as long" in text
    assert "keras3-jax is slower than keras3-tensorflow to predict: it takes 2.00x as long" in text
    assert "keras3-tensorflow is fastest to predict: keras3-torch takes 1.50x as long" in text


def test_generation_is_decided_only_where_tokens_per_s_is_recorded() -> None:
    """Generation is timed per token: 1,000 tokens/s against 500 is a ratio of 0.5, faster. A workload that
    records no tokens/s (the MLP) and a backend that records none (keras3-torch) take no part."""
    mine = _timed(_training(), predict={"keras3-tensorflow": 20.0, "keras3-jax": 20.0, "keras3-torch": 20.0},
                  tokens={"keras3-tensorflow": 500.0, "keras3-jax": 1000.0})
    mlp = _timed(_training("mnist_mlp"), predict={"keras3-tensorflow": 2.0, "keras3-jax": 1.0, "keras3-torch": 3.0})
    report = build(group_results(mine + mlp))
    assert [(v.workload, v.phase) for v in report.phases] == [("my_model", "predict"), ("my_model", "generate"),
                                                              ("mnist_mlp", "predict")]
    generate = report.phase("my_model", "compare", "generate")
    assert generate is not None and [r.environment for r in generate.rows] == ["keras3-jax", "keras3-tensorflow"]
    jax = generate.row("keras3-jax")
    assert jax is not None and jax.vs_reference is not None
    assert jax.vs_reference.ratio == pytest.approx(0.5) and jax.vs_reference.verdict == "faster"
    assert jax.median == pytest.approx(1000.0 / 1000.0 * 1.025)  # ms per generated token, median over repeats
    assert report.phase("mnist_mlp", "compare", "generate") is None
    console = Console(record=True, width=250)
    console.print(terminal.phase_ratio_table(generate))
    text = console.export_text()
    assert "ms per generated token [CI]" in text and "976" in text  # 1000 / 1.025 tokens/s
    table = ending.phase_table(report)
    assert [c.header for c in table.columns] == ["workload", "to train", "to predict", "to generate"]
    text = _ending(report)
    assert "keras3-jax is fastest to generate on my_model (compare): keras3-tensorflow takes 2.00x as long" in text
    mlp_row = next(line for line in text.splitlines()
                   if line.startswith("│ mnist_mlp (compare)") and "fastest" in line)
    assert [c.strip() for c in mlp_row.split("│")[1:-1]][-1] == "-"  # the MLP generates nothing: '-' to generate


def test_the_holm_family_grows_with_the_phases() -> None:
    """The same training pairs, alone and beside prediction and generation: every phase's decisions are the
    report's, so the training decision's adjusted p grows with the family."""
    alone = build(group_results(_training()))
    phased = build(group_results(_timed(_training(), predict={"keras3-tensorflow": 20.0, "keras3-jax": 40.0,
                                                              "keras3-torch": 30.0},
                                        tokens={"keras3-tensorflow": 500.0, "keras3-jax": 1000.0})))
    assert alone.phases == [] and len(decisions(alone.every)) == 2  # two rows; the margin is jax's row
    assert len(decisions(phased.every)) == 2 + 2 + 1  # predict: two rows (the margin is torch's); generate: one
    train_alone = alone.workloads[0].row("keras3-jax").vs_reference  # type: ignore[union-attr]
    train_phased = phased.workloads[0].row("keras3-jax").vs_reference  # type: ignore[union-attr]
    assert train_alone.p_value == train_phased.p_value == pytest.approx(P_SIX)  # type: ignore[union-attr]
    assert train_alone.p_adjusted == pytest.approx(2 * P_SIX)  # type: ignore[union-attr]
    assert train_phased.p_adjusted == pytest.approx(5 * P_SIX)  # type: ignore[union-attr]
    assert "over all 5 decisions of this report" in phased.method and "in every phase judged" in phased.method
    assert "prediction (each repeat's predict ms/step" in phased.method and "generation (each repeat's time per " \
        "generated token" in phased.method and ") are judged the same way" in phased.method
    # five repeats each (p = 2/252 = 0.0079): a training difference that passes a family of two does not pass
    # one of eight (the reference neither fastest nor runner-up to predict and to generate: three decisions each)
    five = [c for c in _training() if c.workload.repeat < 5]
    assert build(group_results(five)).workloads[0].row("keras3-jax").vs_reference.verdict == "faster"  # type: ignore
    report = build(group_results(_timed(five, predict={"keras3-tensorflow": 30.0, "keras3-jax": 10.0,
                                                       "keras3-torch": 20.0},
                                        tokens={"keras3-tensorflow": 250.0, "keras3-jax": 1000.0,
                                                "keras3-torch": 500.0})))
    assert len(decisions(report.every)) == 8
    jax = report.workloads[0].row("keras3-jax").vs_reference  # type: ignore[union-attr]
    assert jax.p_adjusted == pytest.approx(8 * 2 / 252) and jax.verdict == "no clear difference"  # type: ignore


def test_results_without_predict_data_keep_the_training_verdict_and_render_as_before() -> None:
    """Results written before the phases (no predict ms/step, no tokens/s): the training verdict alone, decided as
    it was, and the tables and the ending without a phase."""
    cells = _training()
    assert all(c.timings.predict_ms_per_step is None for c in cells)
    report = build(group_results(cells))
    assert report.phases == [] and report.every == report.workloads
    (v,) = report.workloads
    (alone,) = workload_verdicts(group_results(cells), Settings())
    assert [(r.environment, r.vs_reference) for r in v.rows] == [(r.environment, r.vs_reference) for r in alone.rows]
    assert v.margin == alone.margin and v.statement() == alone.statement()
    text = _ending(report)
    assert "keras3-jax is fastest: keras3-tensorflow takes 1.25x as long" in text
    assert "to train" not in text and "to predict" not in text and "Fastest valid backend per workload" not in text
    assert "phase" not in [c.header for c in terminal.verdict_table(report).columns]
    section = html._verdict_section(report)
    assert "<th>phase</th>" not in section and "<th>its s/epoch</th>" in section and "-predict" not in section
    # an old result file (no predict_ms_per_step key at all) still reads
    old = CellResult.model_validate_json(cells[0].model_dump_json(exclude={"timings": {"predict_ms_per_step"}}))
    assert old.timings == Timings(**cells[0].timings.model_dump(exclude={"predict_ms_per_step"}))


def _openvino(cells: list[CellResult], predict_ms: float) -> list[CellResult]:
    """keras3-openvino as the harness leaves it: every repeat unsupported, after inference on the untrained model."""
    out = []
    for c in cells:
        env = c.environment.model_copy(update={"name": "keras3-openvino", "backend": "openvino"})
        spread = 1 + 0.01 * c.workload.repeat
        out.append(c.model_copy(update={
            "environment": env, "status": "unsupported", "reason": "fit is not supported with openvino backend",
            "cell_id": c.cell_id.replace("keras3-tensorflow", "keras3-openvino"),
            "timings": Timings(predict_ms_per_step=predict_ms * spread),
            "inference": {"trained": False, "batch_s": [predict_ms / 1000]}, "metrics": c.metrics.model_copy(
                update={"per_epoch": [], "test": {}})}))
    return out


def test_validity_follows_training_and_an_inference_only_environment_counts_to_predict() -> None:
    nan = repeats("keras3-torch", "my_model", [t * 0.5 for t in SIX], loss=math.nan)
    cells = _timed(_training()[:12] + nan, predict={"keras3-tensorflow": 20.0, "keras3-jax": 40.0, "keras3-torch": 5.0},
                   tokens={"keras3-tensorflow": 500.0, "keras3-jax": 1000.0, "keras3-torch": 9000.0})
    cells += _openvino(repeats("keras3-tensorflow", "my_model", SIX), 10.0)
    report = build(group_results(cells))
    (train,) = report.workloads
    predict = report.phase("my_model", "compare", "predict")
    generate = report.phase("my_model", "compare", "generate")
    assert predict is not None and generate is not None
    for verdict in (train, predict, generate):  # NaN loss: excluded in every phase, with training's reason
        torch = verdict.row("keras3-torch")
        assert torch is not None and not torch.validity.valid and "loss went NaN" in torch.validity.describe()
        assert verdict.fastest is not None and verdict.fastest.environment != "keras3-torch"
    openvino_train = train.row("keras3-openvino")
    assert openvino_train is not None and not openvino_train.validity.valid
    openvino = predict.row("keras3-openvino")
    assert openvino is not None and openvino.validity.valid and "inference only" in openvino.validity.describe()
    assert predict.fastest is openvino and len(openvino.samples) == 6
    assert openvino.vs_reference is not None and openvino.vs_reference.verdict == "faster"
    assert generate.row("keras3-openvino") is None  # it never trained, so it never generated
    assert generate.fastest is not None and generate.fastest.environment == "keras3-jax"
    text = _ending(report)
    assert "keras3-openvino is fastest to predict: keras3-tensorflow takes 2.0" in text
    assert "excluded: keras3-openvino: no ok repeat (unsupported 6); counted to predict (inference only)" in text


def test_sequential_rounds_ask_only_for_trainings_undecided_pairs() -> None:
    """Prediction that stays undecided gets no repeats of its own: the rounds follow training's pairs."""
    settings = Settings(looks=(3, 6, 9), spending=(0.0, 0.5, 0.5))
    noisy = {"keras3-tensorflow": 20.0, "keras3-jax": 20.0, "keras3-torch": 20.0}
    cells = _timed(_training(), predict=noisy)
    for c in cells:  # predict times that overlap: no clear difference at 6 against 6
        c.timings.predict_ms_per_step = 20.0 * (1 + 0.3 * ((c.workload.repeat + len(c.environment.name)) % 3))
    report = build(group_results(cells), settings)
    assert all(r.vs_reference.verdict in ("faster", "slower") for r in report.workloads[0].rows if r.vs_reference)
    assert next_round(pair_states(report.workloads), settings.plan) == {}
    assert next_round(pair_states(report.phases), settings.plan)  # what including them would have asked for
    assert all(d.stopped is None for d in report.decided if d.phase != "train")


def test_the_html_verdict_table_has_a_row_per_phase() -> None:
    cells = _timed(_training(), predict={"keras3-tensorflow": 20.0, "keras3-jax": 40.0, "keras3-torch": 30.0},
                   tokens={"keras3-tensorflow": 500.0, "keras3-jax": 1000.0})
    section = html._verdict_section(build(group_results(cells)))
    assert "<th>phase</th>" in section and "<th>its time</th>" in section
    for label in ("train (s/epoch)", "predict (ms/step)", "generate (ms/token)"):
        assert f"<td>{label}</td>" in section
    assert 'id="ratios-my_model-compare-predict"' in section and 'id="ratios-my_model-compare-generate"' in section
    assert "<th>tokens/s</th>" in section and "my_model (compare), predict ms/step: relative to keras3-tensorflow" \
        in section


def test_a_profile_judges_only_the_phases_it_names(tmp_path: Path) -> None:
    """`judge: [train]` (the default comparison) leaves prediction and generation out of the verdicts and out of the
    Holm family: the training decisions keep the power they had; the saved settings carry it to `report`."""
    from orchestrator.config.load import load_matrix
    from orchestrator.workflows.report import read_settings, save_settings
    from orchestrator.workflows.run import run_settings

    cells = _timed(_training(), predict={"keras3-tensorflow": 20.0, "keras3-jax": 40.0, "keras3-torch": 30.0},
                   tokens={"keras3-tensorflow": 500.0, "keras3-jax": 1000.0})
    every = build(group_results(cells))
    assert {v.phase for v in every.phases} == {"predict", "generate"}
    train_only = Settings(unjudged=(("compare", "predict"), ("compare", "generate")))
    report = build(group_results(cells), train_only)
    assert report.phases == [] and len(decisions(report.every)) == len(decisions(report.workloads))
    assert len(decisions(every.every)) > len(decisions(report.every))
    assert "fastest to predict" not in _ending(report)
    predict_only = build(group_results(cells), Settings(unjudged=(("compare", "generate"),)))
    assert [v.phase for v in predict_only.phases] == ["predict"]

    loaded = load_matrix(Path(__file__).resolve().parents[1] / "matrix.yaml")
    settings = run_settings(loaded, "compare", None)
    assert settings.judges("compare", "train") and not settings.judges("compare", "predict")
    assert settings.judges("modern-cpu", "generate")
    save_settings(tmp_path, settings)
    assert read_settings(tmp_path).unjudged == settings.unjudged


def test_judge_must_include_training() -> None:
    from orchestrator.config.schema import Profile

    with pytest.raises(ValueError, match="must include 'train'"):
        Profile(judge=["predict"])
    assert Profile(judge=["train", "predict", "train"]).judge == ["train", "predict"]
    assert Profile().judge == ["train", "predict", "generate"]
