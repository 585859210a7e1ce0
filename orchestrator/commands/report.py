"""`orchestrate report RUN_DIR`: the verdicts first, then a table of every cell, PNG plots and one
self-contained HTML page (which `orchestrate run` also writes at the end of every run)."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from orchestrator.analysis.stats import NOISE_CV
from orchestrator.analysis.verdicts.settings import ALPHA, TIE_THRESHOLD, Settings
from orchestrator.commands._options import number
from orchestrator.core.errors import ConfigError
from orchestrator.workflows.report import (
    load_run,
    parse_targets,
    read_settings,
    write_report,
)


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


def add_analysis_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--target", action="append", default=[], metavar="WORKLOAD=ACCURACY",
                   help="time-to-accuracy target, e.g. mnist_mlp=0.97 (repeatable)")
    p.add_argument("--noise-cv", type=number("--noise-cv", float, 0.0, 1.0, low_open=True, high_open=True),
                   default=NOISE_CV,
                   help=f"flag a measurement noisy above this coefficient of variation (default {NOISE_CV})")


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
