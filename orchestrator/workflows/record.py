"""The store as commands see it: which store (--store, the matrix's `store:`, else results/store.sqlite) and
recording a run into it at the end of `orchestrate run`."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from orchestrator.core.errors import StoreError
from orchestrator.store.database import Store, Target, target_of
from orchestrator.store.ingest import ingest_run
from orchestrator.store.records import provenance_of, write_provenance

STORE_ERROR_EXIT = 3  # the store could not be reached, locked or read: documented in the README


def add_store_option(p: argparse.ArgumentParser, results_default: bool = True) -> None:
    p.add_argument("--store", default=None, metavar="URL",
                   help="postgresql://USER@HOST:PORT/DB, or an SQLite file (default: the matrix's `store:`, else "
                        "store.sqlite in the results directory); `off`: do not record")
    if results_default:
        p.add_argument("--results-dir", default="results", help="where runs are written (default: results/)")


def store_target(args: argparse.Namespace, matrix_store: str | None = None) -> Target:
    return target_of(args.store or matrix_store, Path(getattr(args, "results_dir", "results")))


def record_run(args: argparse.Namespace, matrix_store: str | None, matrix_path: Path, run_path: Path,
               console: Console) -> bool:
    """Index what the run wrote; False (and a message saying the JSON is safe) when the store failed."""
    write_provenance(run_path, provenance_of(matrix_path))
    if (args.store or matrix_store) == "off":
        return True
    target = store_target(args, matrix_store)
    try:
        with Store(target) as store:
            done = ingest_run(store, run_path)
    except StoreError as exc:
        console.print(f"error: {exc}", style="red", markup=False, highlight=False, soft_wrap=True)
        console.print(f"the run's results are written in {run_path}; add them later with "
                      f"`orchestrate import {run_path}{_store_flag(args)}`", markup=False, highlight=False,
                      soft_wrap=True)
        return False
    console.print(f"store: {done.added} new result(s) of {done.cells} in {target.describe()}", markup=False,
                  highlight=False, soft_wrap=True)
    return True


def _store_flag(args: argparse.Namespace) -> str:
    if not args.store:
        return ""
    return " --store URL" if "://" in args.store else f" --store {args.store}"  # a URL may hold a password
