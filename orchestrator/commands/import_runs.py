"""`orchestrate import RUN_DIR...`: index runs made before the store (or recorded elsewhere) into it.
Idempotent: a run already in the store adds nothing; a resumed run's new cells are added."""

from __future__ import annotations

import argparse

from rich.console import Console

from orchestrator.commands._options import add_store_option
from orchestrator.workflows.record import import_runs, store_target


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import", help="add run folders to the store (idempotent)")
    p.add_argument("runs", nargs="+", metavar="RUN_DIR", help="run folders, e.g. results/20260101-120000")
    add_store_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace, console: Console) -> int:
    return import_runs(store_target(args.store, args.results_dir), args.runs, console)
