"""`orchestrate store verify [RUN...]`: the store and the run folders hold the same results, nothing missing,
nothing twice; each difference named (run id, cell id, what). Exit 0 when they agree, 1 when they differ (a store
that cannot be reached is exit 3, as for every command).

Without RUN: every run folder in the results directory (a folder with `cells/`) and every run the store holds (its
recorded folder, or, when that folder is gone, its rows named missing in folder). Folders are matched to the
store's runs by run key (store/verify.py), so `<run-id>` and the `<run-id>.N` that `--fresh` moved aside are two
runs; with RUN, the other folders known are read only to tell their runs apart from the ones given.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from orchestrator.core.errors import ConfigError
from orchestrator.store.database import Store, Target
from orchestrator.store.verify import FolderRun, RunCheck, check_runs, counts, folder_runs

AGREE_EXIT = 0
DIFFER_EXIT = 1


def verify(target: Target, runs: list[str], results_dir: str | Path, console: Console) -> int:
    """Compare, print each difference and a one-line total; the exit code."""
    given = [_run_folder(r) for r in runs]
    with Store(target) as store:
        known = _known_folders(store, Path(results_dir), given)
        checked = _runs_of(given if runs else given + known)
        others = _runs_of(known) if runs else []  # not checked, but their run keys are theirs (e.g. <run-id>.N)
        checks = check_runs(store, checked, others, whole_store=not runs)
    for check in checks:
        _print_check(check, console)
    found = counts(checks)
    cells = sum(c.cells for c in checks)
    total = ", ".join(f"{n} {kind}" for kind, n in found.items())
    _say(console, f"verify: {len(checks)} run(s), {cells} cell(s) in folders, {sum(c.rows for c in checks)} row(s) "
                  f"in {target.describe()}: {total}")
    return DIFFER_EXIT if any(found.values()) else AGREE_EXIT


def _run_folder(text: str) -> Path:
    path = Path(text)
    if not (path / "cells").is_dir():
        raise ConfigError(f"{text}: not a run folder (no cells/ inside); give folders like results/RUN_ID")
    return path


def _known_folders(store: Store, results_dir: Path, given: list[Path]) -> list[Path]:
    """The results directory's run folders, then the existing folders the store names as its runs' sources; each
    once, none of the given ones."""
    seen = {f.resolve() for f in given}
    local = sorted(p for p in results_dir.glob("*") if (p / "cells").is_dir())
    sources = [Path(row["source"]) for row in store.runs() if row.get("source")]
    folders = []
    for folder in local + [s for s in sources if (s / "cells").is_dir()]:
        if folder.resolve() not in seen:
            seen.add(folder.resolve())
            folders.append(folder)
    return folders


def _runs_of(folders: list[Path]) -> list[FolderRun]:
    return [run for folder in folders for run in folder_runs(folder)]


def _print_check(check: RunCheck, console: Console) -> None:
    where = str(check.folder) if check.folder else "folder gone"
    state = "agree" if not check.differences else f"{len(check.differences)} difference(s)"
    _say(console, f"{check.run_id} ({where}): {check.cells} cell(s) in the folder, {check.rows} row(s) in the "
                  f"store: {state}")
    for diff in check.differences:
        _say(console, f"  {diff.describe()}")


def _say(console: Console, text: str) -> None:
    console.print(text, markup=False, highlight=False, soft_wrap=True)

