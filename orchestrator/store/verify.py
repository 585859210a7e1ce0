"""Do the store and the run folders hold the same results? Each run folder's valid cell files against the store's
rows of that run, cell by cell: nothing missing on either side, no cell twice, the same status and values.

A folder's run is found in the store by its run key, computed from the folder as importing it would (its run id, its
hosts and its instance, rundir/instance.py), so a run moved aside by `--fresh` (`<run-id>.N`, the same run id) and the
run after it are two runs. Rows of the folder's run id under a key no folder gives (the same run recorded again, e.g.
from another host) are compared with the folder the store names as their source, else with a folder of that run id.

The run's JSON files are the record and the store an index of them (architecture: "a store is an index, never the
only copy"), so every difference is named from the folder's side: a cell missing in the store, a row whose folder
or file is gone (missing in folder), a cell held by more than one row (duplicated: the same run recorded under
two run keys), a status or another column that differs from what importing the folder again would write.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from orchestrator.results.io import load_cells
from orchestrator.rundir.instance import read_instance
from orchestrator.store.database import Store
from orchestrator.store.records import read_provenance, rows_of_run
from orchestrator.store.schema import RESULT_COLUMNS

Kind = Literal["missing in store", "missing in folder", "duplicated", "status differs", "value differs"]
KINDS: tuple[Kind, ...] = ("missing in store", "missing in folder", "duplicated", "status differs", "value differs")

# Written by the store itself, not read from the cell's file: never a difference.
_NOT_COMPARED = {"run_key"}


@dataclass(frozen=True)
class Difference:
    """One cell on which the folder and the store disagree (folder: its name, where two folders share the run id)."""

    run_id: str
    cell_id: str
    kind: Kind
    detail: str = ""
    folder: str = ""

    def describe(self) -> str:
        run = f"{self.run_id} ({self.folder})" if self.folder else self.run_id
        return f"{run} {self.cell_id}: {self.kind}" + (f" ({self.detail})" if self.detail else "")


@dataclass
class RunCheck:
    """One run compared: where its folder is (None: gone), its valid cells and the store's rows, the differences."""

    run_id: str
    folder: Path | None
    cells: int = 0
    rows: int = 0
    differences: list[Difference] = field(default_factory=list)


@dataclass(frozen=True)
class FolderRun:
    """One run id's valid cells in one folder: the run key importing them gives (None: no valid cell) and the rows
    it would write, by cell id; the folder's invalid cell files, by cell id."""

    run_id: str
    folder: Path
    key: str | None
    expected: dict[str, dict[str, Any]]
    invalid: dict[str, str]


def folder_runs(run_path: Path) -> list[FolderRun]:
    """The runs of a folder (one per run id its cells carry, usually one; a folder with no valid cell: its name)."""
    report = load_cells(run_path)
    by_run: dict[str, list[Any]] = {}
    for result in report.results:
        by_run.setdefault(result.run_id, []).append(result)
    invalid = {Path(p).stem: why for p, why in report.rejected.items()}
    if not by_run:
        return [FolderRun(run_path.name, run_path, None, {}, invalid)]
    provenance, instance = read_provenance(run_path), read_instance(run_path)
    runs = []
    for run_id, results in by_run.items():
        run, expected = rows_of_run(results, provenance, str(run_path), instance)
        runs.append(FolderRun(run_id, run_path, run["run_key"], {r["cell_id"]: r for r in expected}, invalid))
    return runs


def check_runs(store: Store, checked: list[FolderRun], others: list[FolderRun], whole_store: bool) -> list[RunCheck]:
    """The checked folders' runs against the store's rows of their run keys; `others` (folders not checked) only
    claim their keys. With `whole_store`, every run the store holds that no folder takes is checked as gone."""
    claimed = {run.key for run in checked + others if run.key}
    extra: dict[int, set[str]] = {}
    gone: list[dict[str, Any]] = []
    for row in store.runs():
        if row["run_key"] in claimed:
            continue
        home = _home(checked, row)
        if home is not None:
            extra.setdefault(home, set()).add(row["run_key"])
        elif whole_store:
            gone.append(row)
    shared = _shared_run_ids(checked)
    checks = [_check_run(store, run, extra.get(i, set()), run.run_id in shared) for i, run in enumerate(checked)]
    return checks + [check_gone(store, row["run_id"], row["run_key"]) for row in gone]


def _home(checked: list[FolderRun], row: dict[str, Any]) -> int | None:
    """The checked folder of the row's run id that the store names as its source, else the first of that run id."""
    candidates = [i for i, run in enumerate(checked) if run.run_id == row["run_id"]]
    source = Path(row["source"]).resolve() if row.get("source") else None
    for i in candidates:
        if checked[i].folder.resolve() == source:
            return i
    return candidates[0] if candidates else None


def _shared_run_ids(checked: list[FolderRun]) -> set[str]:
    folders: dict[str, set[Path]] = {}
    for run in checked:
        folders.setdefault(run.run_id, set()).add(run.folder.resolve())
    return {run_id for run_id, paths in folders.items() if len(paths) > 1}


def _check_run(store: Store, run: FolderRun, extra_keys: set[str], name_folder: bool) -> RunCheck:
    keys = extra_keys | ({run.key} if run.key else set())
    stored = [row for row in store.results(run_id=run.run_id) if row["run_key"] in keys]
    check = _check_rows(run.run_id, run.folder, run.expected, stored, run.invalid)
    if name_folder:
        check.differences = [_named(diff, run.folder.name) for diff in check.differences]
    return check


def _named(diff: Difference, folder: str) -> Difference:
    return Difference(diff.run_id, diff.cell_id, diff.kind, diff.detail, folder)


def check_gone(store: Store, run_id: str, run_key: str | None = None) -> RunCheck:
    """A run the store holds whose folder is gone: every row of it is missing in its folder."""
    return _check_rows(run_id, None, {}, store.results(run_id=run_id, run_key=run_key), {})


def _check_rows(run_id: str, folder: Path | None, expected: dict[str, dict[str, Any]],
                stored: list[dict[str, Any]], invalid: dict[str, str]) -> RunCheck:
    rows: dict[str, list[dict[str, Any]]] = {}
    for row in stored:
        rows.setdefault(row["cell_id"], []).append(row)
    check = RunCheck(run_id, folder, cells=len(expected), rows=len(stored))
    for cell_id in sorted(set(expected) | set(rows)):
        check.differences += _cell_differences(run_id, cell_id, expected.get(cell_id), rows.get(cell_id, []),
                                               folder, invalid.get(cell_id))
    return check


def _cell_differences(run_id: str, cell_id: str, want: dict[str, Any] | None, have: list[dict[str, Any]],
                      folder: Path | None, invalid: str | None) -> list[Difference]:
    if want is None:
        where = "its folder is gone" if folder is None else (
            f"its file in {folder} is invalid: {invalid}" if invalid else f"no result file in {folder / 'cells'}")
        return [Difference(run_id, cell_id, "missing in folder", where)]
    if not have:
        return [Difference(run_id, cell_id, "missing in store")]
    if len(have) > 1:
        keys = ", ".join(sorted(str(r["run_key"]) for r in have))
        return [Difference(run_id, cell_id, "duplicated", f"{len(have)} rows, run keys {keys}")]
    row = have[0]
    if row["status"] != want["status"]:
        return [Difference(run_id, cell_id, "status differs", f"folder {want['status']}, store {row['status']}")]
    changed = [c for c in RESULT_COLUMNS if c not in _NOT_COMPARED and not same(want[c], row[c])]
    if changed:
        shown = "; ".join(f"{c}: folder {want[c]!r}, store {row[c]!r}" for c in changed[:3])
        more = f"; and {len(changed) - 3} more" if len(changed) > 3 else ""
        return [Difference(run_id, cell_id, "value differs", shown + more)]
    return []


def same(a: Any, b: Any) -> bool:
    """Equal as the store keeps them: numbers compared as floats (a REAL read back), NaN equal to NaN."""
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        fa, fb = float(a), float(b)
        return (math.isnan(fa) and math.isnan(fb)) or math.isclose(fa, fb, rel_tol=1e-12, abs_tol=0.0)
    return a == b


def counts(checks: list[RunCheck]) -> dict[Kind, int]:
    """How many differences of each kind, every kind named (0 where none)."""
    found = {kind: 0 for kind in KINDS}
    for check in checks:
        for diff in check.differences:
            found[diff.kind] += 1
    return found
