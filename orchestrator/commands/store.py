"""`orchestrate store verify [RUN...]`: the store's group of commands; `verify` checks that the store and the run
folders hold the same results (exit 0 when they agree, 1 when they differ) -> workflows/verify.py."""

from __future__ import annotations

import argparse

from rich.console import Console

from orchestrator.commands._options import add_store_option
from orchestrator.workflows.record import store_target
from orchestrator.workflows.verify import verify


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("store", help="check the store against the run folders (store verify)")
    group = p.add_subparsers(dest="store_command", required=True, metavar="STORE_COMMAND")
    v = group.add_parser("verify", help="the store and the run folders hold the same results (exit 0: they agree, "
                                        "1: they differ, each difference named)")
    v.add_argument("runs", nargs="*", metavar="RUN_DIR",
                   help="run folders to check (default: every run folder in --results-dir and every run the "
                        "store holds)")
    add_store_option(v)
    v.set_defaults(func=run)


def run(args: argparse.Namespace, console: Console) -> int:
    return verify(store_target(args.store, args.results_dir), args.runs, args.results_dir, console)
