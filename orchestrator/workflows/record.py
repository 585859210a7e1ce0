"""The store as the workflows see it: which store (the --store value, the matrix's `store:`, else store.sqlite in
the results directory), checking it before a run's first cell (`check_store`; `--store-later` skips the check),
recording a run into it at the end of `orchestrate run`, and importing run folders (`orchestrate import`)."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from orchestrator.core.errors import StoreError
from orchestrator.core.redaction import redact
from orchestrator.store.database import Store, Target, target_of
from orchestrator.store.ingest import ingest_run
from orchestrator.store.records import provenance_of, write_provenance

STORE_ERROR_EXIT = 3  # the store could not be reached, locked or read: documented in docs/history.md


def store_target(store: str | None, results_dir: str | Path = "results", matrix_store: str | None = None) -> Target:
    """The store named (a URL or SQLite file), else the matrix's `store:`, else store.sqlite in `results_dir`."""
    return target_of(store or matrix_store, Path(results_dir))


def check_store(store: str | None, results_dir: str | Path, matrix_store: str | None) -> Target | None:
    """Open the run's store (connect, migrate, check its schema) before anything runs; None with `--store off`.

    Raises StoreError (exit 3) naming the store and what to do: an unreachable or incompatible store stops the run
    before its first build or cell instead of after them."""
    if (store or matrix_store) == "off":
        return None
    target = store_target(store, results_dir, matrix_store)
    try:
        Store(target).close()
    except StoreError as exc:
        raise StoreError(f"{exc}. Nothing was run: fix the store, or run with --store-later to record at the end "
                         "(the results' JSON are written either way), or --store off") from None
    return target


def record_run(store: str | None, results_dir: str | Path, matrix_store: str | None, matrix_path: Path,
               run_path: Path, console: Console) -> bool:
    """Index what the run wrote; False (and a message saying the JSON is safe) when the store failed.

    store: the --store value (None: the matrix's `store:`, else the results directory's store; `off`: none)."""
    write_provenance(run_path, provenance_of(matrix_path))
    if (store or matrix_store) == "off":
        return True
    target = store_target(store, results_dir, matrix_store)
    try:
        with Store(target) as db:
            done = ingest_run(db, run_path)
    except StoreError as exc:
        console.print(f"error: {exc}", style="red", markup=False, highlight=False, soft_wrap=True)
        console.print(f"the run's results are written in {run_path}; add them later with "
                      f"`orchestrate import {run_path}{_store_flag(store)}`", markup=False, highlight=False,
                      soft_wrap=True)
        return False
    console.print(f"store: {done.added} new result(s) of {done.cells} in {target.describe()}", markup=False,
                  highlight=False, soft_wrap=True)
    return True


def _store_flag(store: str | None) -> str:
    if not store:
        return ""
    return f" --store {redact(store)}"  # a URL's password as ***: put it back, or keep it in PGPASSWORD


def import_runs(target: Target, folders: list[str], console: Console) -> int:
    """Index run folders made before the store (or recorded elsewhere) into `target`; idempotent. Exit code 0."""
    added = 0
    with Store(target) as store:
        for folder in folders:
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
