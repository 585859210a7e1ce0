"""`orchestrate export`: the store's result rows as CSV or Parquet for notebooks (workflows/export.py)."""

from __future__ import annotations

import argparse

from rich.console import Console

from orchestrator.commands._options import add_filter_options, add_store_option, store_filters
from orchestrator.workflows.export import FORMATS, export_results
from orchestrator.workflows.record import store_target


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="write the store's results as CSV or Parquet")
    p.add_argument("--format", choices=list(FORMATS), default="csv")
    p.add_argument("--output", "-o", default=None, metavar="PATH", help="default: store-results.csv / .parquet")
    add_filter_options(p)
    add_store_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace, console: Console) -> int:
    return export_results(store_target(args.store, args.results_dir), store_filters(args), args.format, args.output,
                          console)
