"""Writing a run's report (HTML, plots, verdict settings) from its results: at the end of `orchestrate run`, and
`report_run` for `orchestrate report RUN_DIR`."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from rich.console import Console

from orchestrator.analysis.batch_sweep import sweeps
from orchestrator.analysis.break_even import BreakEven, Length, break_evens
from orchestrator.analysis.stats import NOISE_CV, Group, group_results
from orchestrator.analysis.verdicts import assemble as verdict
from orchestrator.analysis.verdicts.settings import Settings
from orchestrator.core.errors import ConfigError, ResultsError
from orchestrator.core.files import write_json_atomic
from orchestrator.report import choosing, fairness
from orchestrator.report import keras_cost as keras_cost_report
from orchestrator.report.ending import print_ending
from orchestrator.report.energy import energy_table, unmeasured_note
from orchestrator.report.html import render
from orchestrator.report.plots import render_all
from orchestrator.report.terminal import group_table, print_summary, print_verdicts
from orchestrator.results.io import LoadReport, load_cells

SETTINGS_FILE = "verdict-settings.json"  # the matrix's reference, tie threshold and alpha, saved by `run`


def read_settings(run_path: Path) -> Settings:
    """The verdict settings `orchestrate run` saved beside the cells; defaults when absent or unreadable."""
    try:
        raw = json.loads((run_path / SETTINGS_FILE).read_text())
        return Settings(raw.get("reference"), float(raw["tie_threshold"]), float(raw["alpha"]),
                        tuple(int(n) for n in raw.get("looks", ())), tuple(float(f) for f in raw.get("spending", ())),
                        tuple(str(name) for name in raw.get("loss_gate", ())),
                        tuple((str(p), str(phase)) for p, phase in raw.get("unjudged", ())))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return Settings()


def save_settings(run_path: Path, settings: Settings) -> None:
    write_json_atomic(run_path / SETTINGS_FILE, dataclasses.asdict(settings))


def settings_for(run_path: Path | None, reference: str | None = None, tie_threshold: float | None = None,
                 alpha: float | None = None) -> Settings:
    """The values given, else what `orchestrate run` saved in the run folder (the matrix's settings), else
    defaults."""
    saved = read_settings(run_path) if run_path else Settings()
    threshold = saved.tie_threshold if tie_threshold is None else tie_threshold
    level = saved.alpha if alpha is None else alpha
    return Settings(reference or saved.reference, threshold, level, saved.looks, saved.spending, saved.loss_gate,
                    saved.unjudged)


def load_run(run_dir: str | Path) -> LoadReport:
    """The cell results of a run folder; a clear error when there is nothing to report."""
    path = Path(run_dir)
    if not (path / "cells").is_dir():
        raise ResultsError(f"{path}: not a run folder (no cells/ inside); give results/<run-id> of an "
                           "`orchestrate run`")
    loaded = load_cells(path)
    if not loaded.results:
        extra = f"; {len(loaded.rejected)} file(s) rejected: " + "; ".join(loaded.rejected.values()) \
            if loaded.rejected else ""
        raise ResultsError(f"{path}: no valid cell results in {path / 'cells'}{extra}")
    return loaded


def parse_targets(items: list[str]) -> dict[str, float]:
    targets = {}
    for item in items:
        workload, sep, value = item.partition("=")
        try:
            accuracy = float(value)
        except ValueError:
            accuracy = -1.0
        if not sep or not workload or not 0 < accuracy <= 1:
            raise ConfigError(f"--target {item!r}: write WORKLOAD=ACCURACY with an accuracy in (0, 1], "
                              "e.g. --target mnist_mlp=0.97")
        targets[workload] = accuracy
    return targets


def write_report(run_path: Path, loaded: LoadReport, out: Path, console: Console, settings: Settings,
                 targets: dict[str, float] | None = None, noise_cv: float = NOISE_CV,
                 cells_table: bool = False, verbose: bool = False, length: Length = Length()) -> Path:
    """Write the PNGs and report.html into `out`, then print the ending (verdict table, decisions, exclusions, the
    page's path); `verbose`: the details first (`cells_table`: with every cell and the fairness table), the method
    and the plots. `length`: the training length the break-even predicts totals for. Return the page's path."""
    results = loaded.results
    groups = group_results(results, targets, noise_cv)
    verdicts = verdict.build(groups, settings)
    costs, sizes = break_evens(verdicts.workloads), sweeps(verdicts.workloads)
    run_id = results[0].run_id
    if verbose:
        _print_details(loaded, groups, verdicts, settings, console, cells_table)
        _print_choosing(costs, length, console)
    try:
        plots = render_all(groups, run_path, out, verdicts)
        page = render(run_id, results, groups, plots, loaded.rejected, targets or {}, verdicts,
                      after_verdict=[choosing.html_section(costs, sizes, length)])
        html_path = out / "report.html"
        tmp = html_path.with_name(".report.html.tmp")
        tmp.write_text(page)
        tmp.replace(html_path)
    except OSError as exc:
        raise ResultsError(f"cannot write the report into {out} ({exc.strerror}); choose another with --out") from None
    if verbose:
        for plot in plots:
            console.print(f"plot: {plot.path}", markup=False, highlight=False)
    print_ending(verdicts, html_path, console, loaded.rejected, choosing.ending_lines(costs, sizes, length),
                 warnings=fairness.ending_lines(results))
    return html_path


def _print_choosing(costs: list[BreakEven], length: Length, console: Console) -> None:
    """What `--verbose` adds for the break-even: the costs table and every pair's crossover (or unchanged order)."""
    if (table := choosing.terminal_table(costs, length)) is not None:
        console.print(table)
    for line in choosing.pair_lines(costs):
        console.print(line, markup=False, highlight=False, soft_wrap=True)


def _print_details(loaded: LoadReport, groups: list[Group], verdicts: verdict.VerdictReport, settings: Settings,
                   console: Console, cells_table: bool) -> None:
    """What `--verbose` adds above the ending: every cell and the fairness table, the repeats aggregated, the
    verdict section's tables with the method, the cost of Keras, energy and cost."""
    results = loaded.results
    run_id = results[0].run_id
    if cells_table:
        print_summary(results, console, title=f"Run {run_id}: cells")
    console.print(group_table(groups, title=f"Run {run_id}: repeats aggregated"))
    print_verdicts(verdicts, console)
    if (keras_cost := keras_cost_report.terminal_table(groups, settings)) is not None:
        console.print(keras_cost)
    if (energy := energy_table(results, title=f"Run {run_id}: energy and cost")) is not None:
        console.print(energy)
    elif (note := unmeasured_note(results)) is not None:
        console.print(note, markup=False, highlight=False, soft_wrap=True)


def report_run(run_dir: str | Path, console: Console, out: str | Path | None = None, reference: str | None = None,
               tie_threshold: float | None = None, alpha: float | None = None, targets: list[str] | None = None,
               noise_cv: float = NOISE_CV, verbose: bool = False, length: Length = Length()) -> int:
    """`orchestrate report`: the plots and report.html (default: RUN_DIR/report), then the same ending a run prints
    (`verbose`: every cell and the other tables first); the exit code. targets: WORKLOAD=ACCURACY items; reference,
    tie_threshold, alpha: None for the run's saved settings; length: the break-even's training length."""
    accuracy_targets = parse_targets(targets or [])
    run_path = Path(run_dir).resolve()
    loaded = load_run(run_path)
    settings = settings_for(run_path, reference, tie_threshold, alpha)
    if reference and reference not in {r.environment.name for r in loaded.results}:
        raise ConfigError(f"--reference {reference}: no cell of that environment in {run_path}; choose "
                          f"from: {', '.join(sorted({r.environment.name for r in loaded.results}))}")
    folder = Path(out).resolve() if out else run_path / "report"
    write_report(run_path, loaded, folder, console, settings, accuracy_targets, noise_cv, cells_table=True,
                 verbose=verbose, length=length)
    return 0
