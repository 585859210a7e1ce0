"""`orchestrate history`: every series in the store over time and the changes found in it (workflows/history.py).
Exit 0 whether or not something changed; the CI gate is `orchestrate compare RUN --baseline store`."""

from __future__ import annotations

import argparse

from rich.console import Console

from orchestrator.analysis import changes
from orchestrator.commands._options import add_filter_options, add_store_option, number, store_filters
from orchestrator.workflows.history import history
from orchestrator.workflows.record import store_target


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("history", help="each series of the store over time, and the changes found in it")
    add_filter_options(p)
    p.add_argument("--any-host", action="store_true",
                   help="join the hosts into one series (by default a series never spans two hosts)")
    p.add_argument("--html", default=None, metavar="PATH",
                   help="also write the history as one HTML page with a plot per series")
    p.add_argument("--alpha", type=number("--alpha", float, 0.0, 1.0, low_open=True, high_open=True),
                   default=changes.DEFAULT_ALPHA, help="significance level (default 0.1)")
    p.add_argument("--tie-threshold", type=number("--tie-threshold", float, 0.0, 1.0, high_open=True),
                   default=changes.DEFAULT_TIE, help="changes smaller than this fraction are never flagged (default 0.05)")
    add_store_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace, console: Console) -> int:
    return history(store_target(args.store, args.results_dir), store_filters(args), console, any_host=args.any_host,
                   tie_threshold=args.tie_threshold, alpha=args.alpha, html=args.html)
