"""`orchestrate report RUN_DIR`: a terminal table of every cell, PNG plots and one self-contained HTML page."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from orchestrator.errors import ConfigError, ResultsError
from orchestrator.report.energy import energy_table
from orchestrator.report.html import render
from orchestrator.report.plots import render_all
from orchestrator.report.terminal import group_table, print_summary
from orchestrator.results import LoadReport, load_cells
from orchestrator.stats import NOISE_CV, group_results


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="tables, plots and an HTML page for a run")
    p.add_argument("run_dir", metavar="RUN_DIR", help="a run folder (results/<run-id>)")
    p.add_argument("--out", default=None, help="where the PNGs and report.html go (default: RUN_DIR/report)")
    add_analysis_options(p)
    p.set_defaults(func=run)


def add_analysis_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--target", action="append", default=[], metavar="WORKLOAD=ACCURACY",
                   help="time-to-accuracy target, e.g. mnist_mlp=0.97 (repeatable)")
    p.add_argument("--noise-cv", type=float, default=NOISE_CV,
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
    if not 0 < args.noise_cv < 1:
        raise ConfigError(f"--noise-cv {args.noise_cv:g}: give a fraction between 0 and 1, e.g. 0.05")
    targets = parse_targets(args.target)
    run_path = Path(args.run_dir).resolve()
    loaded = load_run(run_path)
    results = loaded.results
    groups = group_results(results, targets, args.noise_cv)
    run_id = results[0].run_id
    print_summary(results, console, title=f"Run {run_id}: cells")
    console.print(group_table(groups, title=f"Run {run_id}: repeats aggregated"))
    if (energy := energy_table(results, title=f"Run {run_id}: energy and cost")) is not None:
        console.print(energy)
    for path, why in loaded.rejected.items():
        console.print(f"[yellow]ignored {path}: {why}[/yellow]")
    out = Path(args.out).resolve() if args.out else run_path / "report"
    try:
        plots = render_all(groups, run_path, out)
        page = render(run_id, results, groups, plots, loaded.rejected, targets)
        html_path = out / "report.html"
        tmp = html_path.with_name(".report.html.tmp")
        tmp.write_text(page)
        tmp.replace(html_path)
    except OSError as exc:
        raise ResultsError(f"cannot write the report into {out} ({exc.strerror}); choose another with --out") from None
    for plot in plots:
        console.print(f"plot: {plot.path}")
    console.print(f"report: {html_path}")
    return 0
