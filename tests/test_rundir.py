"""The run directory's pieces that need no environment: the owner lock and record, the reuse policy, what counts
as a write fault, and the removal of empty files (the faults themselves, injected for real: tests/test_faults.py)."""

from __future__ import annotations

import errno
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator.core.errors import ConfigError
from orchestrator.rundir.layout import RunDir
from orchestrator.rundir import FolderWatch, RunIdInUse, RunInUse, RunOwnership, as_write_fault, drop_empty_files
from orchestrator.rundir import prepare_reuse

from test_results import sample


def test_a_run_directory_has_one_owner_until_its_process_ends(tmp_path: Path) -> None:
    run = RunDir(tmp_path, "r1")
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from pathlib import Path; from orchestrator.rundir.layout import RunDir; "
        "from orchestrator.rundir import RunOwnership; o = RunOwnership(RunDir(Path(sys.argv[1]), 'r1')); o.claim(); "
        "o.run_dir.ensure_writable(); o.record(); print('owned', flush=True); time.sleep(600)"), str(tmp_path)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "owned"
        with pytest.raises(RunInUse, match=f"run 'r1' in {tmp_path} is in use by pid {holder.pid} on "
                                           f"{socket.gethostname()}"):
            RunOwnership(run).claim()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
    with RunOwnership(run) as owner:  # the kernel freed the lock of the killed owner
        with pytest.raises(RunInUse):  # one owner, even within one process
            RunOwnership(run).claim()
        assert owner.record().pid == os.getpid()


def test_results_need_resume_or_fresh_and_fresh_keeps_them_aside(tmp_path: Path) -> None:
    run = RunDir(tmp_path, "r2")
    assert prepare_reuse(run, resume=False, fresh=False) is None  # nothing there yet
    run.ensure_writable()
    assert prepare_reuse(run, resume=False, fresh=False) is None  # a folder without results is reused
    run.write_cell(sample("a__b__c__r0"))
    run.write_cell(sample("a__b__c__r1"))
    with pytest.raises(RunIdInUse, match=r"already has 2 result\(s\)"):
        prepare_reuse(run, resume=False, fresh=False)
    with pytest.raises(ConfigError, match="either --resume or --fresh"):
        prepare_reuse(run, resume=True, fresh=True)
    assert prepare_reuse(run, resume=True, fresh=False) is None and run.cells_dir.is_dir()
    assert prepare_reuse(run, resume=False, fresh=True) == tmp_path / "r2.1"
    assert sorted(p.name for p in (tmp_path / "r2.1" / "cells").iterdir()) == ["a__b__c__r0.json", "a__b__c__r1.json"]
    assert not run.path.exists()
    run.ensure_writable()
    run.write_cell(sample("a__b__c__r0"))
    assert prepare_reuse(run, resume=False, fresh=True) == tmp_path / "r2.2"


def test_what_counts_as_a_write_fault(tmp_path: Path) -> None:
    run = RunDir(tmp_path, "r3")
    full = as_write_fault(OSError(errno.ENOSPC, "No space left on device"), run, "the result of x to",
                          run.cell_path("x"))
    assert full is not None and full.message == \
        f"cannot write the result of x to {run.cell_path('x')}: No space left on device (ENOSPC)"
    assert full.fix == "free some space"
    elsewhere = OSError(errno.ENOENT, "No such file or directory", "/somewhere/else")
    assert as_write_fault(elsewhere, run, "the files of x") is None  # a runtime's own error, not the run folder's
    inside = OSError(errno.EACCES, "Permission denied", str(run.logs_dir / "x.log"))
    assert as_write_fault(inside, run, "the files of x") is not None
    assert as_write_fault(ValueError("no"), run, "x") is None


def test_a_vanished_folder_is_noticed(tmp_path: Path) -> None:
    run = RunDir(tmp_path, "r4")
    run.ensure_writable()
    data = tmp_path / "data"
    data.mkdir()
    watch = FolderWatch(run, data)
    assert watch.fault() is None
    data.rmdir()
    assert "data directory" in watch.fault().message  # type: ignore[union-attr]
    run.path.rename(tmp_path / "away")
    run.ensure_writable()  # recreated by someone: another folder, not this run's
    assert "vanished" in watch.run_dir_fault().message  # type: ignore[union-attr]


def test_empty_files_are_removed_data_is_kept(tmp_path: Path) -> None:
    run = RunDir(tmp_path, "r5")
    run.ensure_writable()
    (run.logs_dir / "c.log").write_text("")
    (run.logs_dir / "c.events.jsonl").write_text('{"event": "start"}\n')
    (run.cells_dir / "c.monitor.csv").write_text("t_s,cpu_percent\n")
    (run.cells_dir / "d.monitor.csv").write_text("t_s,cpu_percent\n0.1,50\n")
    assert sorted(p.name for p in drop_empty_files(run, "c")) == ["c.log", "c.monitor.csv"]
    assert drop_empty_files(run, "d") == []
    assert (run.logs_dir / "c.events.jsonl").is_file() and (run.cells_dir / "d.monitor.csv").is_file()
