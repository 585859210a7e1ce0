"""`orchestrate store verify`: the store and the run folders agree (exit 0), and each kind of difference is named
with its run id and cell id (exit 1): missing in store, missing in folder, duplicated, status or value differs."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from orchestrator.cli import main
from orchestrator.rundir.layout import RunDir
from orchestrator.store.database import Store, target_of
from orchestrator.store.ingest import ingest_run

from test_results import sample

CELLS = ("e__w__smoke__r0", "e__w__smoke__r1", "e__w__smoke__r2")


def make_run(results: Path, run_id: str = "r") -> RunDir:
    run = RunDir(results, run_id)
    run.ensure_writable()
    for cell in CELLS:
        run.write_cell(sample(cell).model_copy(update={"run_id": run_id}))
    return run


def imported(results: Path, run: RunDir) -> Path:
    store = results / "store.sqlite"
    with Store(target_of(str(store), results)) as db:
        ingest_run(db, run.path)
    return store


def verify(results: Path, capsys: pytest.CaptureFixture[str], *runs: str) -> tuple[int, str]:
    code = main(["store", "verify", *runs, "--results-dir", str(results)])
    return code, capsys.readouterr().out


def test_agreeing_store_and_folders_exit_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = make_run(tmp_path)
    imported(tmp_path, run)
    imported(tmp_path, run)  # importing twice adds nothing
    code, out = verify(tmp_path, capsys)
    assert code == 0, out
    assert "r (" in out and "3 cell(s) in the folder, 3 row(s) in the store: agree" in out
    assert "0 missing in store, 0 missing in folder, 0 duplicated, 0 status differs, 0 value differs" in out
    assert verify(tmp_path, capsys, str(run.path))[0] == 0


def test_a_cell_not_imported_is_missing_in_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = make_run(tmp_path)
    imported(tmp_path, run)
    run.write_cell(sample("e__w__smoke__r3").model_copy(update={"run_id": "r"}))
    code, out = verify(tmp_path, capsys)
    assert code == 1
    assert "r e__w__smoke__r3: missing in store" in out and "1 missing in store" in out


def test_a_removed_or_broken_file_and_a_gone_folder_are_missing_in_folder(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = make_run(tmp_path)
    imported(tmp_path, run)
    run.cell_path(CELLS[0]).unlink()
    run.cell_path(CELLS[1]).write_text("{")
    code, out = verify(tmp_path, capsys)
    assert code == 1
    assert f"r {CELLS[0]}: missing in folder (no result file in {run.cells_dir})" in out
    assert f"r {CELLS[1]}: missing in folder (its file in {run.path} is invalid" in out
    shutil.rmtree(run.path)
    code, out = verify(tmp_path, capsys)
    assert code == 1 and "r (folder gone): 0 cell(s) in the folder, 3 row(s)" in out
    assert "3 missing in folder" in out


def test_status_and_value_differences_are_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = make_run(tmp_path)
    imported(tmp_path, run)
    run.write_cell(sample(CELLS[0], status="failed").model_copy(update={"run_id": "r", "reason": "boom"}))
    changed = sample(CELLS[1]).model_copy(update={"run_id": "r"})
    changed.timings.first_epoch_s = 1.5
    run.write_cell(changed)
    code, out = verify(tmp_path, capsys)
    assert code == 1
    assert f"r {CELLS[0]}: status differs (folder failed, store ok)" in out
    assert f"r {CELLS[1]}: value differs (first_epoch_s: folder 1.5, store None)" in out


def test_one_cell_under_two_run_keys_is_duplicated(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = make_run(tmp_path)
    store = imported(tmp_path, run)
    with sqlite3.connect(store) as conn:  # the same run recorded again under another key (another host's)
        conn.execute("INSERT INTO runs SELECT 'other', run_id, hostname, host_fingerprint, started_at, finished_at, "
                     "git_commit, matrix_hash, source, recorded_at FROM runs")
        conn.execute("INSERT INTO results SELECT 'other', cell_id, run_id, run_started_at, environment, backend, "
                     "workload, profile, repeat, status, reason, steady_s, first_epoch_s, epochs, samples_per_s, "
                     "test_accuracy, keras_version, framework_version, python_version, numpy_version, packages, "
                     "env_hash, runtime, device, hostname, host_fingerprint, cpu, gpu, driver, cpu_count, threads, "
                     "load_1m, data_source, started_at, finished_at, git_commit, matrix_hash FROM results "
                     f"WHERE cell_id = '{CELLS[2]}'")
    code, out = verify(tmp_path, capsys)
    assert code == 1
    assert f"r {CELLS[2]}: duplicated (2 rows, run keys " in out and "other" in out and "1 duplicated" in out


def test_not_a_run_folder_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["store", "verify", str(tmp_path / "nope"), "--results-dir", str(tmp_path)])
    assert code == 2 and "not a run folder (no cells/ inside)" in capsys.readouterr().err


def test_fresh_keeps_the_earlier_run_in_the_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from orchestrator.rundir.instance import read_instance
    from orchestrator.rundir.reuse import prepare_reuse

    run = make_run(tmp_path, "k9")
    imported(tmp_path, run)
    earlier = read_instance(run.path)
    assert prepare_reuse(run, False, True) == tmp_path / "k9.1"  # --fresh: the earlier run moved aside
    assert read_instance(tmp_path / "k9.1") == earlier  # its identity went with it
    run.ensure_writable()
    assert run.start_instance() not in (None, earlier)  # the new run is another run
    run.write_cell(sample(CELLS[0], status="failed").model_copy(update={"run_id": "k9", "reason": "boom"}))
    imported(tmp_path, run)  # the end of the new run records it
    code, out = verify(tmp_path, capsys)
    assert code == 0, out  # k9.1 (the earlier run) and k9 (the new one): two runs, each its own rows
    assert "k9 (" in out and "3 cell(s) in the folder, 3 row(s) in the store: agree" in out
    assert "1 cell(s) in the folder, 1 row(s) in the store: agree" in out
    assert verify(tmp_path, capsys, str(run.path))[0] == 0  # the folder given alone: k9.1's rows are not its
    (tmp_path / "k9.1" / "cells" / f"{CELLS[1]}.json").unlink()
    code, out = verify(tmp_path, capsys)  # two folders of one run id: a difference names the folder too
    assert code == 1 and f"k9 (k9.1) {CELLS[1]}: missing in folder" in out and "1 missing in folder" in out


def test_resume_keeps_the_run_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from orchestrator.rundir.instance import read_instance
    from orchestrator.rundir.reuse import prepare_reuse

    run = make_run(tmp_path, "k9")
    instance = read_instance(run.path)
    assert instance  # the first result written gave the run its identity
    store = imported(tmp_path, run)
    assert prepare_reuse(run, True, False) is None  # --resume: the folder, and its run.json, stay
    assert run.start_instance() == instance
    run.write_cell(sample("e__w__smoke__r3").model_copy(update={"run_id": "k9"}))
    imported(tmp_path, run)
    assert read_instance(run.path) == instance
    with Store(target_of(str(store), tmp_path)) as db:
        assert len(db.runs()) == 1 and len(db.results()) == 4  # one run, its rows updated in place
    assert verify(tmp_path, capsys)[0] == 0


def test_a_folder_without_run_json_keeps_the_old_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import hashlib

    from orchestrator.results.io import load_cells
    from orchestrator.rundir.instance import INSTANCE_FILE
    from orchestrator.store.records import host_fingerprint, read_provenance, rows_of_run

    run = make_run(tmp_path)
    (run.path / INSTANCE_FILE).unlink()  # a run written before runs had an instance
    results = load_cells(run.path).results
    hosts = sorted({f"{r.host.hostname}/{host_fingerprint(r.host)}" for r in results})
    old_key = hashlib.sha256("|".join(["r", *hosts]).encode()).hexdigest()[:20]
    assert rows_of_run(results, read_provenance(run.path), str(run.path))[0]["run_key"] == old_key
    store = imported(tmp_path, run)
    imported(tmp_path, run)  # importing the old folder again adds nothing
    run.write_cell(sample("e__w__smoke__r3").model_copy(update={"run_id": "r"}))  # resumed: still no instance
    assert not (run.path / INSTANCE_FILE).exists() and run.start_instance() is None
    imported(tmp_path, run)
    with Store(target_of(str(store), tmp_path)) as db:
        assert [r["run_key"] for r in db.runs()] == [old_key] and len(db.results()) == 4
    assert verify(tmp_path, capsys)[0] == 0
