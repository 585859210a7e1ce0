"""The terminal ends with the answer: on a recorded run (several backends with repeats on two workloads, one
backend excluded), the verdict table, one line per decision in plain words, the exclusions and the report's path
are the last lines; the per-repeat and fairness tables, the method and the plots come only with --verbose, above
the ending; `orchestrate report RUN_DIR` ends with the same lines."""

from __future__ import annotations

import dataclasses
import io
import math
from pathlib import Path
from types import SimpleNamespace

import pytest
from rich.console import Console

from orchestrator.analysis.stats import group_results, steady_state
from orchestrator.analysis.verdicts.assemble import VerdictReport, build
from orchestrator.analysis.verdicts.family import Decision
from orchestrator.analysis.verdicts.pairs import PairTest
from orchestrator.analysis.verdicts.settings import Settings
from orchestrator.cli import main
from orchestrator.config.load import load_matrix
from orchestrator.report.ending import decision_line, decision_lines
from orchestrator.results.io import load_cells
from orchestrator.results.schema import (
    CellResult, DataInfo, EnvironmentInfo, EpochMetrics, Metrics, Threads, Timings, WorkloadInfo,
)
from orchestrator.rundir.layout import RunDir
from orchestrator.workflows.report import write_report
from orchestrator.workflows.run import RunRequest, _conclude

WIDTH = 120
LAST = 25
BASE = [10.0, 10.1, 9.9, 10.2, 9.8, 10.05]  # six repeats' steady states, about 1% apart
BACKENDS = {"tensorflow1": "tensorflow", "keras3-jax": "jax", "keras3-torch": "torch", "mxnet-keras1": "mxnet"}
PER_REPEAT = "Run recorded: cells"
FAIRNESS = "Fairness: the settings in force"


def cell(env: str, workload: str, repeat: int, steady: float, loss: float = 0.2) -> CellResult:
    """One recorded repeat whose epochs after the first take `steady` seconds."""
    epochs_s = [steady * 3, steady, steady]
    per_epoch = [EpochMetrics(epoch=i + 1, seconds=s, loss=loss if i else 0.5, val_accuracy=0.95)
                 for i, s in enumerate(epochs_s)]
    return CellResult(
        run_id="recorded", cell_id=f"{env}__{workload}__compare__r{repeat}", status="ok",
        environment=EnvironmentInfo(name=env, backend=BACKENDS[env], keras_version="3.15.1", python_version="3.12",
                                    runtime="local"),
        workload=WorkloadInfo(name=workload, profile="compare", epochs=3, batch_size=128, repeat=repeat),
        data=DataInfo(source="real", dataset="mnist"),
        timings=Timings(epochs_s=epochs_s, first_epoch_s=epochs_s[0], steady_state_s=steady_state(epochs_s)),
        metrics=Metrics(per_epoch=per_epoch, test={"accuracy": 0.95, "loss": loss}),
        threads=Threads(requested=2),
    )


def recorded_run() -> list[CellResult]:
    """mnist_mlp: keras3-jax clearly fastest, keras3-torch clearly slower than the reference, mxnet-keras1's loss
    went NaN (excluded); mnist_cnn: keras3-jax ties the reference, keras3-torch too noisy to call."""
    times = {("tensorflow1", "mnist_mlp"): BASE, ("keras3-jax", "mnist_mlp"): [t / 1.69 for t in BASE],
             ("keras3-torch", "mnist_mlp"): [t * 1.3 for t in BASE],
             ("tensorflow1", "mnist_cnn"): BASE, ("keras3-jax", "mnist_cnn"): [t * 0.99 for t in reversed(BASE)],
             ("keras3-torch", "mnist_cnn"): [7.0, 13.0, 9.0, 11.5, 10.0, 12.5]}
    cells = [cell(env, workload, i, t) for (env, workload), ts in times.items() for i, t in enumerate(ts)]
    return cells + [cell("mxnet-keras1", "mnist_mlp", i, t * 0.5, loss=math.nan) for i, t in enumerate(BASE)]


def write_run(tmp_path: Path) -> Path:
    run = RunDir(tmp_path / "results", "recorded")
    run.ensure_writable()
    for result in recorded_run():
        run.write_cell(result)
    return run.path


def ending_of(run_path: Path, verbose: bool) -> list[str]:
    """What `write_report` prints (the end of a run, and of `orchestrate report`) on a console of fixed width."""
    console = Console(record=True, width=WIDTH, file=io.StringIO())
    write_report(run_path, load_cells(run_path), run_path / "report", console, Settings(), cells_table=True,
                 verbose=verbose)
    return lines_of(console.export_text())


def lines_of(text: str) -> list[str]:
    return [line.rstrip() for line in text.rstrip("\n").splitlines()]


@pytest.fixture
def run_path(tmp_path: Path) -> Path:
    return write_run(tmp_path)


@pytest.fixture
def report() -> VerdictReport:
    return build(group_results(recorded_run()), Settings())


def test_each_decision_is_one_line_in_plain_words(report: VerdictReport) -> None:
    assert decision_lines(report) == [
        "keras3-jax is fastest on mnist_mlp (compare): tensorflow1 takes 1.69x as long [1.66, 1.72]",
        "keras3-torch is slower than tensorflow1 on mnist_mlp (compare): it takes 1.30x as long [1.27, 1.33]",
        "keras3-jax and tensorflow1 are within 5% on mnist_cnn (compare) (tie)",
        "no clear difference between tensorflow1 and keras3-torch on mnist_cnn (compare) (p=0.729)",
    ]  # mxnet-keras1 is excluded: its decisions are not told, its exclusion is
    valid = [d for d in report.decided if d.valid]
    assert [d.test.verdict for d in valid] == ["slower", "slower", "tie", "no clear difference"]
    assert [d.lead for d in valid] == [True, False, True, False]


def decision(verdict: str, ratio: float = 1.0, low: float = 0.9, high: float = 1.1, p: float | None = 0.2,
             lead: bool = False, stopped: str | None = None) -> Decision:
    test = PairTest(5, 5, ratio, low, high, p, verdict, 0.95, p, p)  # type: ignore[arg-type]
    return Decision("mnist_mlp", "compare", "tensorflow1", "keras3-jax", test, lead, True, stopped)


def test_each_verdict_has_its_wording() -> None:
    assert decision_line(decision("slower", 1.69, 1.38, 1.88, 0.001, lead=True), 0.05) == \
        "tensorflow1 is fastest: keras3-jax takes 1.69x as long [1.38, 1.88]"
    assert decision_line(decision("faster", 0.5, 0.4, 0.8, 0.001), 0.05) == \
        "tensorflow1 is slower than keras3-jax: it takes 2.00x as long [1.25, 2.50]"
    assert decision_line(decision("tie", 1.01, 0.98, 1.03), 0.1) == "tensorflow1 and keras3-jax are within 10% (tie)"
    assert decision_line(decision("no clear difference"), 0.05) == \
        "no clear difference between tensorflow1 and keras3-jax (p=0.2)"
    assert decision_line(decision("no clear difference", stopped="budget spent"), 0.05) == \
        "no clear difference between tensorflow1 and keras3-jax (p=0.2; stopped: budget spent)"
    one = PairTest(1, 1, 0.9, None, None, None, "one repeat: no verdict")
    assert decision_line(Decision("w", "p", "a", "b", one, True, True), 0.05) == \
        "a and b: one repeat, no verdict (run more repeats)"
    assert decision_line(Decision("w", "p", "a", "b", one, True, True, "budget spent"), 0.05) == \
        "a and b: one repeat, no verdict (stopped: budget spent)"
    three = PairTest(3, 3, 1.5, 1.47, 1.53, 0.1, "slower", 0.9, 0.1, 0.1)
    assert decision_line(Decision("w", "p", "a", "b", three, True, True), 0.05) == \
        "a is fastest: b takes 1.50x as long [1.47, 1.53] 90%"  # the interval's achieved level, below 95%
    replaced = dataclasses.replace(three, n_b=4, aside_b=1)
    assert decision_line(Decision("w", "p", "a", "b", replaced, True, True), 0.05) == \
        "a is fastest: b takes 1.50x as long [1.47, 1.53] 90%; slow repeats set aside: b 1"


def table_rows(lines: list[str]) -> list[list[str]]:
    """The cells of a rich table's body rows (a workload's name only on its first row)."""
    return [[c.strip() for c in line.split("│")[1:-1]] for line in lines if line.startswith("│")]


def test_the_run_ends_with_the_whole_verdict(run_path: Path, report: VerdictReport) -> None:
    lines = ending_of(run_path, verbose=False)
    assert len(lines) <= LAST  # the ending, and nothing above it
    tail = lines[-LAST:]
    words = decision_lines(report)
    table = tail[:min(tail.index(line) for line in words)]
    assert "Verdict: each backend's time relative to the reference" in table[0]
    rows = table_rows(table)
    assert [r[0] for r in rows if r[0]] == ["mnist_cnn (compare)", "mnist_mlp (compare)"]
    mlp = rows[[r[0] for r in rows].index("mnist_mlp (compare)"):]
    assert [r[1:] for r in mlp] == [
        ["keras3-jax", "6/6", "0.592 [0.58, 0.604]", "faster", "valid"],
        ["tensorflow1", "6/6", "reference (tensorflow1)", "-", "valid"],
        ["keras3-torch", "6/6", "1.3 [1.27, 1.33]", "slower", "valid"],
        ["mxnet-keras1", "6/6", "0.5 [0.49, 0.51]", "faster, not counted", "excluded"]]
    assert [r[1] for r in rows[:3]] == ["keras3-jax", "tensorflow1", "keras3-torch"]
    assert [r[4] for r in rows[:3]] == ["tie", "-", "no clear difference"]
    assert sorted(tail[len(table):-2]) == sorted(words)  # every decision, one line each
    assert tail[-2:] == ["excluded: mxnet-keras1 on mnist_mlp (compare): loss went NaN (repeat 0, epoch 2)",
                         f"report: {run_path / 'report' / 'report.html'}"]
    assert (run_path / "report" / "report.html").is_file()
    text = "\n".join(lines)
    for moved in (PER_REPEAT, FAIRNESS, "Hodges-Lehmann", "plot: "):
        assert moved not in text


def test_verbose_puts_the_details_above_the_same_ending(run_path: Path) -> None:
    ending = ending_of(run_path, verbose=False)
    lines = ending_of(run_path, verbose=True)
    assert lines[-len(ending):] == ending
    details = lines[:-len(ending)]
    for shown in (PER_REPEAT, FAIRNESS, "Hodges-Lehmann", "plot: "):
        assert shown in "\n".join(details)
    cells = details[:next(i for i, line in enumerate(details) if FAIRNESS in line)]
    assert len(table_rows(cells)) == 42  # one row per repeat: 7 backends x workloads, 6 repeats each


def test_orchestrate_report_prints_the_same_ending(run_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ending = ending_of(run_path, verbose=False)
    assert main(["report", str(run_path)]) == 0
    printed = lines_of(capsys.readouterr().out)
    assert printed[-len(ending):] == ending and PER_REPEAT not in "\n".join(printed)
    assert main(["report", str(run_path), "--verbose"]) == 0
    printed = lines_of(capsys.readouterr().out)
    assert printed[-len(ending):] == ending
    assert PER_REPEAT in "\n".join(printed) and FAIRNESS in "\n".join(printed)


def test_a_run_ends_with_the_ending(repo: Path, tmp_path: Path) -> None:
    """The end of `orchestrate run` once every cell has ended (workflows/run.py), on the recorded cells."""
    run_path = write_run(tmp_path)
    run_dir = RunDir(tmp_path / "results", "recorded")
    cells = load_cells(run_path).results
    every_cell_ended = SimpleNamespace(interrupts=0, not_run=[])
    printed = {}
    for verbose in (False, True):
        console = Console(record=True, width=WIDTH, file=io.StringIO())
        request = RunRequest(results_dir=str(tmp_path / "results"), store="off", verbose=verbose)
        code = _conclude(request, console, load_matrix(repo / "matrix.yaml"), run_dir,
                         every_cell_ended, [], cells, Settings())  # type: ignore[arg-type]
        assert code == 0
        printed[verbose] = lines_of(console.export_text())
    ending = ending_of(run_path, verbose=False)
    assert printed[False][-len(ending):] == ending and printed[True][-len(ending):] == ending
    above = "\n".join(printed[False][:-len(ending)])
    assert "Run recorded" not in above and FAIRNESS not in above and "summary: " in above
    assert "Run recorded" in "\n".join(printed[True]) and FAIRNESS in "\n".join(printed[True])


def test_a_store_that_missed_the_run_exits_3_even_when_a_cell_failed(repo: Path, tmp_path: Path) -> None:
    """Exit 3 means "the store missed this run: import it"; a failed cell must not hide it behind exit 1."""
    run_path = write_run(tmp_path)
    run_dir = RunDir(tmp_path / "results", "recorded")
    cells = load_cells(run_path).results
    failed = cells[0].model_copy(update={"status": "failed"})
    every_cell_ended = SimpleNamespace(interrupts=0, not_run=[])
    console = Console(record=True, width=WIDTH, file=io.StringIO())
    refused = "postgresql://bench@127.0.0.1:9/none?connect_timeout=2"  # port 9 (discard): nothing listens
    request = RunRequest(results_dir=str(tmp_path / "results"), store=refused, report=False)
    code = _conclude(request, console, load_matrix(repo / "matrix.yaml"), run_dir,
                     every_cell_ended, [], [failed, *cells[1:]], Settings())  # type: ignore[arg-type]
    assert code == 3
    assert "orchestrate import" in console.export_text()
    request = RunRequest(results_dir=str(tmp_path / "results"), store="off", report=False)
    assert _conclude(request, console, load_matrix(repo / "matrix.yaml"), run_dir,
                     every_cell_ended, [], [failed, *cells[1:]], Settings()) == 1  # type: ignore[arg-type]
