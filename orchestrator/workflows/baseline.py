"""`orchestrate compare RUN --baseline store`: the CI gate. Each environment x workload x profile of RUN against
the latest comparable runs in the store (same host fingerprint, environment, workload and profile; RUN itself
left out), their repeats pooled; exit 1 when any is significantly slower (verdicts.pair_test)."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from orchestrator.core.errors import ConfigError
from orchestrator.results.io import load_cells
from orchestrator.rundir.instance import read_instance
from orchestrator.store.database import Store, target_of
from orchestrator.store.records import rows_of_run, read_provenance
from orchestrator.store.series import build_series
from orchestrator.analysis.verdicts.pairs import PairTest, pair_test
from orchestrator.analysis.verdicts.settings import Settings

SLOWER_EXIT = 1  # a significant slowdown: the CI job fails


def against_store(run: str | Path, store: str | None, baseline_runs: int, settings: Settings,
                  console: Console) -> int:
    """Compare the run folder `run` with its latest `baseline_runs` comparable runs in `store` (None: store.sqlite
    beside the run's folder); the exit code (SLOWER_EXIT on a significant slowdown, else 0)."""
    run_path = Path(run)
    report = load_cells(run_path)
    if not report.results:
        raise ConfigError(f"{run_path}: no valid cell results to compare (give a run folder, e.g. results/RUN_ID)")
    this, rows = rows_of_run(report.results, read_provenance(run_path), str(run_path), read_instance(run_path))
    target = target_of(store, run_path.resolve().parent)  # default: the store beside the run's folder
    with Store(target) as db:
        history = [r for r in db.results() if r["run_key"] != this["run_key"]]
    baselines = {(s.environment, s.workload, s.profile, s.host): s for s in build_series(history)}
    table = Table(title=f"{this['run_id']} against the store's latest {baseline_runs} comparable run(s)",
                  title_justify="left")
    for header in ("environment", "workload", "profile", "baseline runs", "ratio run/baseline [95%]", "p", "verdict"):
        table.add_column(header, overflow="fold")
    slower = compared = 0
    for series in build_series(rows):
        base = baselines.get((series.environment, series.workload, series.profile, series.host))
        earlier = [p for p in (base.points if base else []) if p.samples][-baseline_runs:]
        if not earlier:
            table.add_row(series.environment, series.workload, series.profile, "none", "-", "-", "no baseline")
            continue
        test: PairTest = pair_test([s for p in earlier for s in p.samples], series.points[0].samples,
                                   settings.tie_threshold, settings.alpha)
        compared += 1
        slower += test.verdict == "slower"
        table.add_row(series.environment, series.workload, series.profile, ", ".join(p.run_id for p in earlier),
                      test.describe(), test.describe_p(), test.verdict,
                      style="bold red" if test.verdict == "slower" else None)
    console.print(table)
    console.print(f"{compared} compared with the store ({target.describe()}), {slower} significantly "
                  f"slower (exact rank-sum test at p <= {settings.alpha:g}, beyond {settings.tie_threshold:.0%})",
                  markup=False, highlight=False, soft_wrap=True)
    return SLOWER_EXIT if slower else 0
