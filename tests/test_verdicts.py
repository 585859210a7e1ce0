"""Verdicts on constructed samples: a known difference found, a tie declared, one repeat never judged; invalid
cells (NaN loss, accuracy at chance or far below the others) excluded from "fastest"; the ranking, the
performance profile and the article's claims; and the verdict section of a report rendered in headless Chromium."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from headless_chromium import Chromium
from orchestrator.cli import main
from orchestrator.workflows.report import save_settings
from orchestrator.config.expand import expand
from orchestrator.config.load import load_matrix
from orchestrator.analysis.claims import CLAIMS, judge_all
from orchestrator.results.schema import (
    CellResult, DataInfo, EnvironmentInfo, EpochMetrics, Metrics, Threads, Timings, WorkloadInfo,
)
from orchestrator.rundir.layout import RunDir
from orchestrator.analysis.stats import group_results, steady_state
from orchestrator.analysis.verdicts.settings import Settings
from orchestrator.analysis.verdicts.pairs import pair_test
from orchestrator.analysis.verdicts.ranking import performance_profile, ranking
from orchestrator.analysis.verdicts.workloads import workload_verdicts

BASE = [10.0, 10.1, 9.9, 10.2, 9.8]  # five repeats' steady states, 1% apart
BACKENDS = {"tensorflow1": "tensorflow", "cntk": "cntk", "theano": "theano", "mxnet-keras1": "mxnet",
            "keras3-jax": "jax", "keras3-torch": "torch", "keras3-tensorflow": "tensorflow"}
DATASETS = {"mnist_mlp": "mnist", "mnist_cnn": "mnist", "babi_rnn": "babi", "cifar10_cnn": "cifar10",
            "my_model": "mnist"}


def cell(env: str, workload: str, repeat: int, steady: float, accuracy: float = 0.95, loss: float = 0.2,
         run_id: str = "constructed") -> CellResult:
    """One repeat whose epochs after the first all take `steady` seconds."""
    epochs_s = [steady * 3, steady, steady]
    per_epoch = [EpochMetrics(epoch=i + 1, seconds=s, loss=loss if i else 0.5, val_accuracy=accuracy)
                 for i, s in enumerate(epochs_s)]
    return CellResult(
        run_id=run_id, cell_id=f"{env}__{workload}__compare__r{repeat}", status="ok",
        environment=EnvironmentInfo(name=env, backend=BACKENDS[env], keras_version="2.3.1", python_version="3.6",
                                    runtime="local"),
        workload=WorkloadInfo(name=workload, profile="compare", epochs=3, batch_size=128, repeat=repeat),
        data=DataInfo(source="real", dataset=DATASETS[workload]),
        timings=Timings(epochs_s=epochs_s, first_epoch_s=epochs_s[0], steady_state_s=steady_state(epochs_s)),
        metrics=Metrics(per_epoch=per_epoch, test={"accuracy": accuracy, "loss": loss}),
        threads=Threads(requested=2),
    )


def repeats(env: str, workload: str, times: list[float], **kw: float) -> list[CellResult]:
    return [cell(env, workload, i, t, **kw) for i, t in enumerate(times)]  # type: ignore[arg-type]


def test_a_known_ten_percent_difference_is_found_with_five_repeats_each() -> None:
    faster = [t * 0.9 for t in reversed(BASE)]
    test = pair_test(BASE, faster)
    assert test.verdict == "faster" and test.ratio == pytest.approx(0.9)
    assert test.low is not None and test.high is not None and test.low < 0.9 < test.high < 1
    assert test.p_value == pytest.approx(2 / 252)  # exact Mann-Whitney U: complete separation of 5 and 5
    assert pair_test(faster, BASE).verdict == "slower"


def test_identical_distributions_are_declared_a_tie() -> None:
    test = pair_test(BASE, [10.05, 9.95, 10.15, 9.85, 10.0])
    assert test.verdict == "tie" and 0.95 <= test.low <= test.ratio <= test.high <= 1.05  # type: ignore[operator]
    assert pair_test(BASE, list(BASE)).verdict == "tie"


def test_small_differences_and_small_samples_are_not_called() -> None:
    # 3% faster on every repeat: significant, but under the 5% threshold: never "faster".
    assert pair_test(BASE, [t * 0.97 for t in BASE]).verdict in ("tie", "no clear difference")
    # Three repeats each, completely separated: the exact two-sided p is 0.1, so no verdict at 0.05.
    three = pair_test(BASE[:3], [t * 0.7 for t in BASE[:3]])
    assert three.verdict == "no clear difference" and three.p_value == pytest.approx(0.1)
    assert pair_test(BASE[:3], [t * 0.7 for t in BASE[:3]], alpha=0.1).verdict == "faster"
    # A wide spread: the interval straddles 1.
    assert pair_test(BASE, [7.0, 13.0, 9.0, 11.5, 10.0]).verdict == "no clear difference"


def test_one_repeat_gives_no_interval_and_no_verdict() -> None:
    test = pair_test([10.0], [5.0])
    assert test.ratio == pytest.approx(0.5) and not test.has_interval and test.p_value is None
    assert test.verdict == "one repeat: no verdict" and test.describe() == "0.5 (one repeat: no interval)"
    assert pair_test([], [5.0]).verdict == "not comparable"


def _mlp_run(base: list[float] = BASE, **overrides: list[CellResult]) -> list[CellResult]:
    """mnist_mlp: tensorflow1 the reference; keras3-jax 20% faster; cntk equal; mxnet 45% faster."""
    envs = {"tensorflow1": base, "keras3-jax": [t * 0.8 for t in base], "cntk": base[::-1],
            "mxnet-keras1": [t * 0.55 for t in base]}
    cells: list[CellResult] = []
    for env, times in envs.items():
        cells += overrides.get(env.replace("-", "_"), repeats(env, "mnist_mlp", times))
    return cells


def test_a_nan_cell_is_excluded_and_a_fast_wrong_backend_never_wins() -> None:
    nan = repeats("keras3-torch", "mnist_mlp", [t * 0.3 for t in BASE], loss=math.nan, accuracy=0.95)
    (verdict,) = workload_verdicts(group_results(_mlp_run() + nan))
    torch = verdict.row("keras3-torch")
    assert torch is not None and not torch.validity.valid and "loss went NaN" in torch.validity.describe()
    assert verdict.fastest is not None and verdict.fastest.environment == "mxnet-keras1"
    assert verdict.runner_up is not None and verdict.runner_up.environment == "keras3-jax"
    assert verdict.margin is not None and verdict.margin.verdict == "slower"  # jax takes 0.8/0.55 = 1.45x
    assert verdict.statement().startswith("mxnet-keras1 fastest: keras3-jax takes 1.45x its time")
    assert [r.environment for r in verdict.excluded] == ["keras3-torch"]
    assert verdict.reference == "tensorflow1"
    ratios = {r.environment: r.vs_reference.verdict for r in verdict.rows if r.vs_reference}
    assert ratios == {"mxnet-keras1": "faster", "keras3-jax": "faster", "cntk": "tie", "keras3-torch": "faster"}


def test_cells_at_chance_or_far_below_the_others_are_excluded_with_the_reason() -> None:
    chance = repeats("mxnet-keras1", "mnist_mlp", [t * 0.55 for t in BASE], accuracy=0.11)
    (verdict,) = workload_verdicts(group_results(_mlp_run(mxnet_keras1=chance)))
    mxnet = verdict.row("mxnet-keras1")
    assert mxnet is not None and "at chance" in mxnet.validity.describe()
    assert verdict.fastest is not None and verdict.fastest.environment == "keras3-jax"
    below = repeats("keras3_jax".replace("_", "-"), "mnist_mlp", [t * 0.8 for t in BASE], accuracy=0.70)
    (verdict,) = workload_verdicts(group_results(_mlp_run(keras3_jax=below)))
    jax = verdict.row("keras3-jax")
    assert jax is not None and "far below the other backends' 0.950" in jax.validity.describe()


def test_ranking_and_performance_profile_across_workloads() -> None:
    cnn = (repeats("tensorflow1", "mnist_cnn", BASE) + repeats("keras3-jax", "mnist_cnn", [t * 2 for t in BASE])
           + repeats("cntk", "mnist_cnn", [t * 1.5 for t in BASE]))
    verdicts = workload_verdicts(group_results(_mlp_run() + cnn), Settings(reference="tensorflow1"))
    ranks = {r.environment: r for r in ranking(verdicts)}
    assert ranks["keras3-jax"].geomean == pytest.approx(math.sqrt(0.8 * 2.0))
    assert ranks["tensorflow1"].geomean == pytest.approx(1.0) and ranks["tensorflow1"].fastest_on == 1
    assert ranks["mxnet-keras1"].workloads == 1 and ranks["mxnet-keras1"].fastest_on == 1
    curves = {c.environment: c for c in performance_profile(verdicts)}
    assert curves["mxnet-keras1"].factors == [1.0, math.inf]  # fastest on mnist_mlp, absent from mnist_cnn
    assert curves["tensorflow1"].share_within(1.0) == 0.5 and curves["tensorflow1"].share_within(2.0) == 1.0
    assert curves["keras3-jax"].factors == pytest.approx([0.8 / 0.55, 2.0])


def test_the_articles_claims_are_judged_from_ratios() -> None:
    theano = repeats("theano", "mnist_mlp", [t * 1.3 for t in BASE])
    settings = Settings()
    judged = {j.claim.id: j for j in judge_all(workload_verdicts(group_results(_mlp_run() + theano)), settings)}
    assert judged["mlp-mxnet-tf"].status == "reproduced"  # MXNet faster than TF
    assert judged["mlp-cntk-tf"].status == "reproduced"  # CNTK and TF a tie
    assert judged["mlp-theano-tf"].status == "refuted" and "theano slower" in judged["mlp-theano-tf"].why
    assert judged["cnn-cntk-tf"].status == "not run"
    assert judged["cifar-mxnet-cntk"].status == "not run"  # untestable, but this run has no cifar10_cnn either
    assert {c.id for c in CLAIMS} == set(judged)
    cifar = repeats("tensorflow1", "cifar10_cnn", BASE, accuracy=0.5)
    judged = {j.claim.id: j for j in judge_all(workload_verdicts(group_results(cifar)), settings)}
    assert judged["cifar-mxnet-cntk"].status == "untestable"  # now it ran: the claim itself cannot be tested
    # "over twice as fast" needs the whole interval beyond the factor
    babi = repeats("tensorflow1", "babi_rnn", BASE, accuracy=0.5) + repeats("cntk", "babi_rnn",
                                                                            [t * 1.5 for t in BASE], accuracy=0.5)
    judged = {j.claim.id: j for j in judge_all(workload_verdicts(group_results(babi)), settings)}
    assert judged["babi-cntk-tf-text"].status == "refuted" and "short of the claimed factor" in \
        judged["babi-cntk-tf-text"].why
    assert judged["babi-cntk-tf-notebook"].status == "refuted"


def test_a_run_without_the_articles_workloads_says_nothing_of_the_article() -> None:
    """A user's model (or today's models): no K80 columns of dashes, no claims table about workloads not run."""
    from rich.console import Console

    from orchestrator.report import html, terminal
    from orchestrator.analysis.verdicts.assemble import build

    def rendered(workload: str) -> str:
        groups = group_results(repeats("keras3-tensorflow", workload, BASE)
                               + repeats("keras3-jax", workload, [t * 0.8 for t in BASE]))
        report = build(groups, Settings())
        console = Console(record=True, width=250)
        terminal.print_verdicts(report, console)
        console.print(terminal.group_table(groups))
        return console.export_text() + html._verdict_section(report) + html._summary(groups, {})

    mine = rendered("my_model")
    assert "keras3-jax fastest" in mine
    assert "2017" not in mine and "K80" not in mine and "claims" not in mine
    article = rendered("mnist_mlp")  # the same backends on the article's MLP: its numbers and claims are shown
    assert "K80 2017 ordering (s/epoch)" in article and "The 2017 article's claims on this machine" in article
    assert "The article's claims on babi_rnn" in article  # the article's other workloads: not run here


def test_keras_benchmarks_ms_per_step_stand_beside_s_per_epoch_in_the_ratio_tables() -> None:
    """A user's or today's model records fit and predict ms/step (keras-benchmarks' measures): the report shows each
    backend's median over repeats beside its s/epoch; a workload that recorded none shows no such columns."""
    from rich.console import Console

    from orchestrator.report import html, terminal
    from orchestrator.analysis.verdicts.assemble import build

    cells = repeats("keras3-tensorflow", "my_model", BASE) + repeats("keras3-jax", "my_model", [t * 0.8 for t in BASE])
    for i, c in enumerate(cells):
        jax = c.environment.name == "keras3-jax"
        c.timings.fit_ms_per_step = (61.0 if jax else 95.0) + i % 5  # medians 63 and 97 over the five repeats
        c.timings.predict_ms_per_step = 12.5 if jax else 30.25
    report = build(group_results(cells + repeats("keras3-jax", "mnist_mlp", BASE)), Settings())
    mine, mlp = report.workloads
    console = Console(record=True, width=250)
    console.print(terminal.ratio_table(mine, False), terminal.ratio_table(mlp, False))
    text = console.export_text()
    mine_text, mlp_text = text.split("mnist_mlp (compare)")
    assert "fit ms/step" in mine_text and "predict ms/step" in mine_text and "keras-benchmarks" in mine_text
    assert "fit ms/step" not in mlp_text
    rows = {line.split("│")[1].strip(): [c.strip() for c in line.split("│")[1:]] for line in mine_text.splitlines()
            if line.startswith("│")}
    assert rows["keras3-jax"][3:5] == ["63", "12.5"] and rows["keras3-tensorflow"][3:5] == ["97", "30.2"]
    page = html._ratio_table(mine, False)
    assert "<th>fit ms/step</th><th>predict ms/step</th>" in page.replace("\n", "")
    assert "fit ms/step" not in html._ratio_table(mlp, False)


def test_repeats_are_interleaved_across_environments_and_the_default_compares(repo: Path) -> None:
    loaded = load_matrix(repo / "matrix.yaml")
    cells = expand(loaded)
    default = loaded.matrix.default
    envs = [e for e in loaded.matrix.environments if e in default.environments]
    assert {"tensorflow1", "cntk", "theano", "mxnet-keras1", "keras3-tensorflow", "keras3-jax",
            "keras3-torch"} == set(envs)
    repeats_n = loaded.matrix.profiles[default.profile].repeats
    assert repeats_n >= 3
    first = default.workloads[0]
    assert [(c.environment, c.repeat) for c in cells[:2 * len(envs)]] == \
        [(e, r) for r in range(2) for e in envs] and {c.workload for c in cells[:len(envs)]} == {first}
    assert loaded.matrix.reference == "tensorflow1" and all(c.epochs >= 3 for c in cells)


def _write_run(tmp_path: Path) -> Path:
    """Six repeats each: the report makes 7 decisions (Holm), which 5 against 5 (smallest p 0.0079) cannot pass."""
    six = BASE + [10.05]
    nan = repeats("keras3-torch", "mnist_mlp", [t * 0.3 for t in six], loss=math.nan)
    cnn = repeats("tensorflow1", "mnist_cnn", six) + repeats("cntk", "mnist_cnn", [t * 1.5 for t in six])
    run = RunDir(tmp_path / "results", "constructed")
    run.ensure_writable()
    for result in _mlp_run(six) + nan + cnn:
        run.write_cell(result)
    return run.path


VERDICT_VIEW = """(() => {
  const text = el => el.innerText.trim();
  const table = id => { const t = document.getElementById(id); return t && {
      headers: [...t.querySelectorAll('th')].map(text),
      rows: [...t.tBodies[0].rows].map(r => [...r.cells].map(text))}; };
  const h2 = [...document.querySelectorAll('h2')].map(text);
  const section = document.getElementById('verdict');
  return {h2, verdict: table('verdict-table'), mlp: table('ratios-mnist_mlp-compare'), claims: table('claims'),
          ranking: table('ranking'), shown: section && section.getBoundingClientRect().height > 100,
          images: [...document.images].map(img => img.alt)};
})()"""


def test_verdict_section_comes_first_in_the_report_in_headless_chromium(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_path = _write_run(tmp_path)
    assert main(["report", str(run_path)]) == 0
    out = capsys.readouterr().out
    assert "Run constructed: cells" not in out  # the terminal ends with the verdict; every cell with --verbose
    assert "mxnet-keras1 is fastest on mnist_mlp (compare): keras3-jax takes 1.45x as long [" in out
    assert "excluded: keras3-torch on mnist_mlp (compare): loss went NaN" in out
    assert main(["report", str(run_path), "--verbose"]) == 0
    out = capsys.readouterr().out
    verdict_line = next(line for line in out.splitlines() if "keras3-jax: 1.45 [" in line)  # the verdict table's
    assert "mnist_mlp" in verdict_line and "mxnet-keras1" in verdict_line and "keras3-torch" in verdict_line
    assert "takes 1.45x as long" in " ".join(out.split())
    assert "excluded: loss went NaN" in out and "Run constructed: cells" in out
    with Chromium(tmp_path / "chromium-profile") as browser:
        browser.open((run_path / "report" / "report.html").as_uri())
        seen = browser.evaluate(VERDICT_VIEW)
    assert seen["h2"][0] == "Verdict" and seen["shown"]
    verdict = {row[0]: dict(zip(seen["verdict"]["headers"], row)) for row in seen["verdict"]["rows"]}
    mlp = verdict["mnist_mlp"]
    assert mlp["fastest valid backend"] == "mxnet-keras1" and mlp["runner-up"] == "keras3-jax"
    assert mlp["excluded"] == "keras3-torch"
    assert mlp["K80 2017 ordering (s/epoch)"].startswith("MXNet (Keras 1.2.2) 1.49")
    assert mlp["runner-up / fastest [95% CI]"].startswith("1.45 [")
    assert verdict["mnist_cnn"]["fastest valid backend"] == "tensorflow1"
    rows = {row[0]: dict(zip(seen["mlp"]["headers"], row)) for row in seen["mlp"]["rows"]}
    assert rows["tensorflow1"]["/ tensorflow1 [95% CI]"] == "reference"
    assert rows["mxnet-keras1"]["verdict"] == "faster" and rows["mxnet-keras1"]["K80 2017 ratio"] == "0.538"
    assert rows["keras3-torch"]["validity"].startswith("excluded: loss went NaN")
    claims = {row[1]: row[5] for row in seen["claims"]["rows"]}
    assert claims["MNIST CNN: TensorFlow faster than CNTK (10.3 vs 14.9 s/epoch)"] == "reproduced"
    # mxnet-keras1 ran mnist_mlp only: ranked after the backends valid on both workloads
    assert [row[1] for row in seen["ranking"]["rows"]][:2] == ["tensorflow1", "cntk"]
    assert "Holm" in (run_path / "report" / "report.html").read_text()
    assert {"Performance profile across workloads", "mnist_mlp: time relative to tensorflow1"} <= set(seen["images"])


def test_compare_judges_repeats_not_epochs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a, b = RunDir(tmp_path, "a"), RunDir(tmp_path, "b")
    for run, factor in ((a, 1.0), (b, 1.2)):
        run.ensure_writable()
        for result in repeats("tensorflow1", "mnist_mlp", [t * factor for t in BASE]):
            run.write_cell(result.model_copy(update={"run_id": run.run_id}))
        run.write_cell(cell("cntk", "mnist_mlp", 0, 10.0 * factor, run_id=run.run_id))
    assert main(["compare", str(a.path), str(b.path), "--fail-on-slower"]) == 1
    out = capsys.readouterr().out
    assert "2 compared: 1 slower, 1 one repeat: no verdict" in out
    assert main(["compare", str(b.path), str(a.path), "--fail-on-slower"]) == 0


def test_report_judges_a_run_with_the_settings_its_matrix_gave(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    run = RunDir(tmp_path, "three")
    run.ensure_writable()
    for result in repeats("tensorflow1", "mnist_mlp", BASE[:3]) + repeats("cntk", "mnist_mlp",
                                                                          [t * 1.5 for t in BASE[:3]]):
        run.write_cell(result)
    assert main(["report", str(run.path)]) == 0  # 3 repeats each: p = 0.1, no verdict at the default 0.05
    assert "no clear difference" in capsys.readouterr().out
    save_settings(run.path, Settings(reference="cntk", tie_threshold=0.05, alpha=0.1))
    assert main(["report", str(run.path)]) == 0  # what `orchestrate run` saved from the matrix
    out = capsys.readouterr().out
    assert "reference (cntk)" in out and "tensorflow1 is fastest: cntk takes 1.50x as long [1.47, 1.53] 90%" in out
    assert main(["report", str(run.path), "--alpha", "2"]) == 2
    assert main(["report", str(run.path), "--reference", "theano"]) == 2
    assert "--reference theano: no cell of that environment" in capsys.readouterr().err


def test_all_fills_the_side_that_env_or_workload_leaves_open(repo: Path) -> None:
    from orchestrator.workflows.run import RunRequest, chosen

    loaded = load_matrix(repo / "matrix.yaml")
    every_workload = list(loaded.matrix.workloads)
    ask = lambda **kw: chosen(RunRequest(**kw), loaded)  # noqa: E731
    assert ask() == {"environments": None, "workloads": None}  # the default selection
    assert ask(environments=("cntk",)) == {"environments": ["cntk"], "workloads": None}  # default workloads
    assert ask(environments=("cntk",), every=True) == {"environments": ["cntk"], "workloads": every_workload}
    assert ask(every=True)["environments"] == list(loaded.matrix.environments)
    assert ask(workloads=("babi_rnn",), every=True)["workloads"] == ["babi_rnn"]
