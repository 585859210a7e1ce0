"""The report's plots print no warnings: rendered with every warning turned into an error, on a run
whose first environment failed every repeat (no steady state: the case that left matplotlib's epoch-time legend
without a labelled artist) beside valid ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.cli import main
from orchestrator.results.schema import Metrics, Timings
from orchestrator.rundir.layout import RunDir
from orchestrator.analysis.stats import group_results
from test_verdicts import BASE, repeats


@pytest.mark.filterwarnings("error")
def test_the_plots_of_a_run_with_a_failed_environment_print_no_warnings(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    failed = [r.model_copy(update={"status": "failed", "timings": Timings(), "metrics": Metrics()})
              for r in repeats("cntk", "mnist_mlp", BASE[:3])]
    ok = [r for env, factor in (("tensorflow1", 1.0), ("mxnet-keras1", 0.9), ("keras3-jax", 0.6))
          for r in repeats(env, "mnist_mlp", [t * factor for t in BASE[:3]])]
    run = RunDir(tmp_path / "results", "first-failed")
    run.ensure_writable()
    for result in failed + ok:
        run.write_cell(result)
    groups = group_results(failed + ok)
    assert groups[0].environment == "cntk" and groups[0].steady is None
    assert main(["report", str(run.path)]) == 0
    captured = capsys.readouterr()
    assert "Warning" not in captured.err and "No artists" not in captured.out + captured.err
    written = {p.name for p in (run.path / "report").glob("*.png")}
    assert {"epoch_time_mnist_mlp.png", "ratio_mnist_mlp_compare.png", "accuracy_mnist_mlp.png"} <= written


@pytest.mark.filterwarnings("error")
def test_the_utilization_plot_of_the_default_runs_size_prints_no_warning(tmp_path: Path) -> None:
    """Seven environments at six repeats each, each with its CPU series (the default run after one sequential
    look): a legend entry per repeat (42) no longer fits the figure, and tight_layout warned "not applied"."""
    run = RunDir(tmp_path / "results", "seven-by-six")
    run.ensure_writable()
    cells = run.path / "cells"
    cells.mkdir(parents=True, exist_ok=True)
    results = []
    for k, env in enumerate(("tensorflow1", "cntk", "theano", "mxnet-keras1", "keras3-jax", "keras3-torch",
                             "keras3-tensorflow")):
        for r in repeats(env, "mnist_mlp", [1.0 + 0.1 * k + 0.01 * i for i in range(6)]):
            name = f"{r.cell_id}.monitor.csv"
            (cells / name).write_text("t_s,cpu_percent\n" + "".join(f"{t * 0.5},{150 + k + t}\n" for t in range(20)))
            results.append(r.model_copy(update={"monitor": {"series_file": name, "hz": 2.0}}))
    for result in results:
        run.write_cell(result)
    assert main(["report", str(run.path)]) == 0
    assert (run.path / "report" / "cpu_utilization_mnist_mlp.png").is_file()
