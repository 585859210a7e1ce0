"""`orchestrate report RUN_DIR`: the verdicts first, then a table of every cell, PNG plots and one
self-contained HTML page (which `orchestrate run` also writes at the end of every run)."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

from rich.console import Console

from orchestrator.commands._options import number
from orchestrator.errors import ConfigError, ResultsError
from orchestrator.report import verdict
from orchestrator.report.energy import energy_table, unmeasured_note
from orchestrator.report.html import render
from orchestrator.report.plots import render_all
from orchestrator.report import keras_cost as keras_cost_report
from orchestrator.report.terminal import group_table, print_summary, print_verdicts
from orchestrator.results import LoadReport, load_cells, write_json_atomic
from orchestrator.analysis.stats import NOISE_CV, group_results
from orchestrator.analysis.verdicts import ALPHA, TIE_THRESHOLD, Settings

SETTINGS_FILE = "verdict-settings.json"  # the matrix's reference, tie threshold and alpha, saved by `run`


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="tables, plots and an HTML page for a run")
    p.add_argument("run_dir", metavar="RUN_DIR", help="a run folder (results/<run-id>)")
    p.add_argument("--out", default=None, help="where the PNGs and report.html go (default: RUN_DIR/report)")
    add_analysis_options(p)
    add_verdict_options(p)
    p.set_defaults(func=run)


def add_verdict_options(p: argparse.ArgumentParser, reference: bool = True) -> None:
    if reference:
        p.add_argument("--reference", default=None, metavar="ENV",
                       help="environment every ratio is taken to (default: the run's matrix `reference`, "
                            "tensorflow1; on a workload it did not run, keras3-tensorflow, else the first "
                            "environment of the run)")
    p.add_argument("--tie-threshold", type=number("--tie-threshold", float, 0.0, 1.0, high_open=True),
                   default=None, metavar="FRACTION",
                   help="differences under this fraction are never called (default: the run's matrix setting, "
                        f"else {TIE_THRESHOLD})")
    p.add_argument("--alpha", type=number("--alpha", float, 0.0, 1.0, low_open=True, high_open=True), default=None,
                   help=f"family-wise significance level: Holm over every decision of the report (default: the run's, "
                        f"else {ALPHA})")


def verdict_settings(args: argparse.Namespace, run_path: Path | None = None) -> Settings:
    """The flags, else what `orchestrate run` saved in the run folder (the matrix's settings), else defaults."""
    saved = read_settings(run_path) if run_path else Settings()
    threshold = saved.tie_threshold if args.tie_threshold is None else args.tie_threshold
    alpha = saved.alpha if args.alpha is None else args.alpha
    return Settings(getattr(args, "reference", None) or saved.reference, threshold, alpha, saved.looks,
                    saved.spending, saved.loss_gate)


def read_settings(run_path: Path) -> Settings:
    """The verdict settings `orchestrate run` saved beside the cells; defaults when absent or unreadable."""
    try:
        raw = json.loads((run_path / SETTINGS_FILE).read_text())
        return Settings(raw.get("reference"), float(raw["tie_threshold"]), float(raw["alpha"]),
                        tuple(int(n) for n in raw.get("looks", ())), tuple(float(f) for f in raw.get("spending", ())),
                        tuple(str(name) for name in raw.get("loss_gate", ())))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return Settings()


def save_settings(run_path: Path, settings: Settings) -> None:
    write_json_atomic(run_path / SETTINGS_FILE, dataclasses.asdict(settings))


def add_analysis_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--target", action="append", default=[], metavar="WORKLOAD=ACCURACY",
                   help="time-to-accuracy target, e.g. mnist_mlp=0.97 (repeatable)")
    p.add_argument("--noise-cv", type=number("--noise-cv", float, 0.0, 1.0, low_open=True, high_open=True),
                   default=NOISE_CV,
                   help=f"flag a measurement noisy above this coefficient of variation (default {NOISE_CV})")


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


def run(args: argparse.Namespace, console: Console) -> int:
    targets = parse_targets(args.target)
    run_path = Path(args.run_dir).resolve()
    loaded = load_run(run_path)
    settings = verdict_settings(args, run_path)
    if args.reference and args.reference not in {r.environment.name for r in loaded.results}:
        raise ConfigError(f"--reference {args.reference}: no cell of that environment in {run_path}; choose "
                          f"from: {', '.join(sorted({r.environment.name for r in loaded.results}))}")
    out = Path(args.out).resolve() if args.out else run_path / "report"
    write_report(run_path, loaded, out, console, settings, targets, args.noise_cv, cells_table=True)
    return 0


def write_report(run_path: Path, loaded: LoadReport, out: Path, console: Console, settings: Settings,
                 targets: dict[str, float] | None = None, noise_cv: float = NOISE_CV,
                 cells_table: bool = False) -> Path:
    """Print the verdicts (and the tables), write the PNGs and report.html into `out`; return the page's path."""
    results = loaded.results
    groups = group_results(results, targets, noise_cv)
    verdicts = verdict.build(groups, settings)
    run_id = results[0].run_id
    print_verdicts(verdicts, console)
    if cells_table:
        print_summary(results, console, title=f"Run {run_id}: cells")
        console.print(group_table(groups, title=f"Run {run_id}: repeats aggregated"))
    if (keras_cost := keras_cost_report.terminal_table(groups, settings)) is not None:
        console.print(keras_cost)
    if (energy := energy_table(results, title=f"Run {run_id}: energy and cost")) is not None:
        console.print(energy)
    elif (note := unmeasured_note(results)) is not None:
        console.print(note, markup=False, highlight=False, soft_wrap=True)
    for path, why in loaded.rejected.items():
        console.print(f"[yellow]ignored {path}: {why}[/yellow]")
    try:
        plots = render_all(groups, run_path, out, verdicts)
        page = render(run_id, results, groups, plots, loaded.rejected, targets or {}, verdicts)
        html_path = out / "report.html"
        tmp = html_path.with_name(".report.html.tmp")
        tmp.write_text(page)
        tmp.replace(html_path)
    except OSError as exc:
        raise ResultsError(f"cannot write the report into {out} ({exc.strerror}); choose another with --out") from None
    for plot in plots:
        console.print(f"plot: {plot.path}", markup=False, highlight=False)
    console.print(f"report: {html_path}", markup=False, highlight=False, soft_wrap=True)
    return html_path
