"""`orchestrate import RUN_DIR...`: index runs made before the store (or recorded elsewhere) into it.
Idempotent: a run already in the store adds nothing; a resumed run's new cells are added."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from orchestrator.workflows.record import add_store_option, store_target
from orchestrator.store.database import Store
from orchestrator.store.ingest import ingest_run


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import", help="add run folders to the store (idempotent)")
    p.add_argument("runs", nargs="+", metavar="RUN_DIR", help="run folders, e.g. results/20260101-120000")
    add_store_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace, console: Console) -> int:
    target = store_target(args)
    added = 0
    with Store(target) as store:
        for folder in args.runs:
            if Path(folder).is_file():  # `import results/*` also names the store's own files
                console.print(f"{folder}: skipped (a file, not a run folder)", markup=False, highlight=False)
                continue
            done = ingest_run(store, Path(folder))
            added += done.added
            note = f", {done.rejected} invalid cell file(s) left out" if done.rejected else ""
            console.print(f"{done.run_path}: {done.added} new of {done.cells} result(s){note}", markup=False,
                          highlight=False, soft_wrap=True)
    console.print(f"{added} new result(s) in {target.describe()}", markup=False, highlight=False, soft_wrap=True)
    return 0
