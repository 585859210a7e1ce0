"""`orchestrate report RUN_DIR`: PNG plots and one self-contained HTML page (which `orchestrate run` also writes at
the end of every run), then the same ending a run prints: the verdict table, the decisions in words, the exclusions
and the page's path (`--verbose`: every cell and the other tables above it)."""

from __future__ import annotations

import argparse

from rich.console import Console

from orchestrator.commands._options import (
    VERBOSE_HELP, add_analysis_options, add_training_options, add_verdict_options, training_length,
)
from orchestrator.workflows.report import report_run


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="tables, plots and an HTML page for a run")
    p.add_argument("run_dir", metavar="RUN_DIR", help="a run folder (results/<run-id>)")
    p.add_argument("--out", default=None, help="where the PNGs and report.html go (default: RUN_DIR/report)")
    add_analysis_options(p)
    add_verdict_options(p)
    add_training_options(p)
    p.add_argument("--verbose", action="store_true", help=VERBOSE_HELP)
    p.set_defaults(func=run)


def run(args: argparse.Namespace, console: Console) -> int:
    return report_run(args.run_dir, console, out=args.out, reference=args.reference,
                      tie_threshold=args.tie_threshold, alpha=args.alpha, targets=args.target,
                      noise_cv=args.noise_cv, verbose=args.verbose, length=training_length(args))
