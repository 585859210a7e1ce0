"""The fault list of docs/faults.md, each fault injected for real: a full tmpfs, a
read-only bind mount, a results folder moved away, real SIGKILL/SIGTERM, a kernel OOM kill inside a memory
cgroup, a data folder moved away, a second orchestrator on the same run.

Each test asserts that no valid result is lost, that nothing invalid is kept as valid, and that `--resume`
(the exact command the orchestrator printed) then finishes the run with every cell ok without running again a
cell that finished before the fault. Cells are the cheap test workloads (tests/workloads/) in the real keras3-jax
environment. Mounts and cgroups need root (these tests run as root in CI).
"""

from __future__ import annotations

import errno
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

from orchestrator.cli import main
from orchestrator.rundir.layout import RunDir
from orchestrator.results.io import load_cells, read_cell
from orchestrator.rundir import EXIT_FAULT

from test_results import sample
from test_run_survives import assert_all_json_complete, cell_id, epochs_in, harness_processes, run_args, spawn, wait_for

pytestmark = pytest.mark.integration

PAIR = ("--profile", "pair", "--no-report")


@pytest.fixture()
def matrix(repo: Path, tmp_path: Path) -> Path:
    """The test workloads' matrix plus `readsdata` (kept out of the shared one: `--all` there means six cells)."""
    here = repo / "tests" / "workloads"
    text = (here / "matrix.yaml").read_text().replace("workloads_dir: .", f"workloads_dir: {here}")
    text = text.replace("../../requirements/", f"{repo / 'requirements'}/").replace("\nworkloads:\n", (
        "\nworkloads:\n  readsdata: {dataset: mnist, epochs: 2, batch_size: 16, "
        "description: ok; reads --data-dir/probe.txt in each epoch}\n"))
    path = tmp_path / "matrix.yaml"
    path.write_text(text)
    return path


def mount(*args: str) -> None:
    out = subprocess.run(["mount", *args], capture_output=True, text=True)
    if out.returncode != 0:
        pytest.fail(f"mount {' '.join(args)} failed (these fault tests need root): {out.stderr.strip()}")


@pytest.fixture()
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs: room for a two-cell run until the test fills it."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mount("-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk))
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-R", "-l", str(disk)], capture_output=True)


def fill(disk: Path) -> Path:
    """Write a file until the filesystem is full (ENOSPC)."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
    finally:
        os.close(fd)
    return filler


def pair_ids(workload: str = "sleepy") -> tuple[str, str]:
    return cell_id(workload, "pair", 0), cell_id(workload, "pair", 1)


def start_pair(matrix: Path, results: Path, run_id: str, cache: Path, *extra: str,
               workload: str = "sleepy") -> tuple[subprocess.Popen[str], Path]:
    """A two-cell run, returned once its first cell is written and its second is mid-epoch."""
    proc = spawn(run_args(matrix, results, run_id, cache, *PAIR, "--workload", workload, *extra))
    run = results / run_id
    first, second = pair_ids(workload)
    try:
        wait_for(lambda: (run / "cells" / f"{first}.json").exists()
                 and epochs_in(run / "logs" / f"{second}.events.jsonl") >= 1, 180,
                 "the first cell to be written and the second to be mid-epoch")
    except BaseException:
        proc.kill()
        raise
    return proc, run


def finish(proc: subprocess.Popen[str]) -> str:
    try:
        out, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "Traceback" not in out, out
    return out


def line(out: str, start: str) -> str:
    found = [x for x in out.splitlines() if x.startswith(start)]
    assert found, f"no line starting with {start!r} in:\n{out}"
    return found[0]


def resume_with_printed_command(out: str) -> subprocess.CompletedProcess[str]:
    """Run exactly the command the orchestrator printed to continue the run."""
    command = shlex.split(line(out, "orchestrate run "))
    assert command[-1] == "--resume"
    return subprocess.run([sys.executable, "-m", "orchestrator.cli", *command[1:]], capture_output=True, text=True,
                          timeout=300)


def assert_no_empty_files(run: Path) -> None:
    """An empty file is never left behind as if it were data: the one empty file allowed is the log of a cell whose
    result is written (a harness that printed nothing; the test workloads print nothing)."""
    empty = [p for p in run.rglob("*") if p.is_file() and p.stat().st_size == 0]
    unexplained = [p for p in empty if not (p.suffix == ".log" and (run / "cells" / f"{p.stem}.json").is_file())]
    assert not unexplained, f"empty files left: {unexplained}"


def valid_ok(run: Path) -> dict[str, bytes]:
    """The bytes of every valid ok result of a run."""
    return {r.cell_id: (run / "cells" / f"{r.cell_id}.json").read_bytes()
            for r in load_cells(run).results if r.status == "ok"}


def assert_resumed(done: subprocess.CompletedProcess[str], run: Path, kept: dict[str, bytes], total: int) -> None:
    """--resume finished the run: every cell ok, the cells finished before the fault untouched, no duplicate."""
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{len(kept)} of {total} cell(s) already have a valid ok result" in done.stdout
    for cell, raw in kept.items():
        assert (run / "cells" / f"{cell}.json").read_bytes() == raw, f"{cell} was run again"
    report = load_cells(run)
    assert [r.status for r in report.results] == ["ok"] * total and not report.rejected
    summary = json.loads((run / "summary.json").read_text())
    assert sorted(c["cell_id"] for c in summary["cells"]) == sorted(r.cell_id for r in report.results)
    assert_all_json_complete(run)
    assert_no_empty_files(run)


# ---------------------------------------------------------------- a run id used again


def test_a_run_id_with_results_needs_resume_or_fresh(matrix: Path, env_cache: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    run = RunDir(tmp_path, "again")
    run.ensure_writable()
    run.write_cell(sample(cell_id("sleepy")))
    earlier = run.cell_path(cell_id("sleepy")).read_bytes()
    args = run_args(matrix, tmp_path, "again", env_cache, "--no-report")

    assert main(args) == 2  # refused before anything runs
    err = capsys.readouterr().err
    assert "run 'again' already has 1 result(s)" in err
    assert "--resume" in err and "--fresh" in err and f"{tmp_path / 'again.1'}" in err
    assert run.cell_path(cell_id("sleepy")).read_bytes() == earlier
    assert main([*args, "--resume", "--fresh"]) == 2
    assert "either --resume or --fresh" in capsys.readouterr().err

    assert main([*args, "--fresh"]) == 0  # the old results moved aside, never deleted
    assert (tmp_path / "again.1" / "cells" / f"{cell_id('sleepy')}.json").read_bytes() == earlier
    assert read_cell(run.cell_path(cell_id("sleepy"))).status == "ok"
    assert "moved the earlier results of run 'again' to" in capsys.readouterr().out
    assert main([*args, "--fresh"]) == 0
    assert (tmp_path / "again.2" / "cells" / f"{cell_id('sleepy')}.json").is_file()
    assert (tmp_path / "again.1" / "cells" / f"{cell_id('sleepy')}.json").read_bytes() == earlier


# ---------------------------------------------------------------- write faults


def test_full_disk_mid_run_stops_cleanly_then_resume_finishes(matrix: Path, env_cache: Path,
                                                              small_disk: Path) -> None:
    proc, run = start_pair(matrix, small_disk / "results", "full", env_cache)
    first, second = pair_ids()
    filler = fill(small_disk)
    out = finish(proc)
    assert proc.returncode == EXIT_FAULT, out
    assert "No space left on device" in out
    assert first in line(out, "written:") and second in line(out, "not written:")
    assert not (run / "cells" / f"{second}.json").exists()
    kept = valid_ok(run)
    assert list(kept) == [first]
    assert_all_json_complete(run)
    assert_no_empty_files(run)
    assert not harness_processes(run)
    still_full = subprocess.run([sys.executable, "-m", "orchestrator.cli",
                                 *shlex.split(line(out, "orchestrate run "))[1:]], capture_output=True, text=True)
    assert still_full.returncode == 2  # a full disk before a run starts is refused at once
    assert "is not writable (No space left on device)" in still_full.stderr

    filler.unlink()
    assert_resumed(resume_with_printed_command(out), run, kept, 2)


def test_read_only_results_mid_run_stops_cleanly_then_resume_finishes(matrix: Path, env_cache: Path,
                                                                      small_disk: Path) -> None:
    """The cells folder becomes a read-only mount while a cell runs (monitoring off: no file open there)."""
    proc, run = start_pair(matrix, small_disk / "results", "ro", env_cache, "--monitor-hz", "0")
    first, second = pair_ids()
    cells = run / "cells"
    mount("--bind", str(cells), str(cells))
    mount("-o", "remount,bind,ro", str(cells))
    out = finish(proc)
    assert proc.returncode == EXIT_FAULT, out
    assert "Read-only file system" in out
    assert first in line(out, "written:") and second in line(out, "not written:")
    kept = valid_ok(run)
    assert list(kept) == [first]

    subprocess.run(["umount", str(cells)], check=True)
    assert_resumed(resume_with_printed_command(out), run, kept, 2)


def test_results_folder_vanishing_mid_run_stops_cleanly(matrix: Path, env_cache: Path, tmp_path: Path) -> None:
    """The run's folder is moved away (an unmounted share, a cleanup script): nothing is written elsewhere."""
    proc, run = start_pair(matrix, tmp_path / "results", "gone", env_cache)
    first, second = pair_ids()
    away = tmp_path / "away"
    run.rename(away)
    out = finish(proc)
    assert proc.returncode == EXIT_FAULT, out
    assert "vanished" in out and second in line(out, "not written:")
    assert not (run / "cells").exists()  # not recreated half-empty behind the user's back
    kept = valid_ok(away)
    assert list(kept) == [first]

    if run.exists():
        run.rmdir()
    away.rename(run)
    assert_resumed(resume_with_printed_command(out), run, kept, 2)


# ---------------------------------------------------------------- signals and kills


def test_sigkill_while_a_result_is_written(matrix: Path, env_cache: Path, tmp_path: Path, repo: Path) -> None:
    """A real SIGKILL, sent halfway through the second result's atomic write (tests/kill_while_writing.py)."""
    args = run_args(matrix, tmp_path, "k9w", env_cache, *PAIR, "--workload", "sleepy")
    env = dict(os.environ, KILL_AT_RESULT_WRITE="2")
    proc = subprocess.run([sys.executable, str(repo / "tests" / "kill_while_writing.py"), *args], env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == -signal.SIGKILL, proc.stdout + proc.stderr
    run = tmp_path / "k9w"
    first, second = pair_ids()
    leftovers = list((run / "cells").glob(f".{second}.json.*.tmp"))
    assert len(leftovers) == 1 and 0 < leftovers[0].stat().st_size  # the half-written temporary file
    assert not (run / "cells" / f"{second}.json").exists()
    kept = valid_ok(run)
    assert list(kept) == [first]

    done = subprocess.run([sys.executable, "-m", "orchestrator.cli", *args, "--resume"], capture_output=True,
                          text=True, timeout=300)  # the owner is gone (its lock died with it): resumable
    assert_resumed(done, run, kept, 2)


def test_sigterm_then_two_resumes_the_second_refused(matrix: Path, env_cache: Path, tmp_path: Path) -> None:
    """SIGTERM (a batch scheduler, `docker stop`) stops the run; of two resumes of it, the second is refused."""
    proc, run = start_pair(matrix, tmp_path, "term2", env_cache)
    first, second = pair_ids()
    proc.send_signal(signal.SIGTERM)
    out = finish(proc)
    assert proc.returncode == 130, out
    assert read_cell(run / "cells" / f"{second}.json").error.type == "Interrupted"  # recorded, not kept as ok
    kept = valid_ok(run)
    assert list(kept) == [first]

    command = shlex.split(line(out, "orchestrate run "))
    owner = subprocess.Popen([sys.executable, "-m", "orchestrator.cli", *command[1:]], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
    wait_for(lambda: (run / "owner.json").exists() and json.loads((run / "owner.json").read_text())["pid"] == owner.pid,
             60, "the first resume to own the run")
    second_try = subprocess.run([sys.executable, "-m", "orchestrator.cli", *command[1:]], capture_output=True,
                                text=True, timeout=120)
    assert second_try.returncode == 2, second_try.stdout + second_try.stderr
    assert f"in use by pid {owner.pid} on {socket.gethostname()}" in second_try.stderr
    out2, _ = owner.communicate(timeout=300)
    assert_resumed(subprocess.CompletedProcess(owner.args, owner.returncode, out2, ""), run, kept, 2)


def _memory_cgroup(name: str) -> tuple[Path, str] | None:
    """A new memory cgroup (v2, else v1) below this process's own, with the file that sets its limit."""
    for line_ in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line_.split(":", 2)
        if controllers == "" and Path("/sys/fs/cgroup/cgroup.controllers").is_file():
            if "memory" in Path("/sys/fs/cgroup/cgroup.controllers").read_text().split():
                base, limit = Path("/sys/fs/cgroup") / path.lstrip("/"), "memory.max"
                break
        elif "memory" in controllers.split(","):
            base, limit = Path("/sys/fs/cgroup/memory") / path.lstrip("/"), "memory.limit_in_bytes"
            break
    else:
        return None
    try:
        (base / name).mkdir()
    except OSError:
        return None
    return base / name, limit


def test_harness_killed_by_the_kernel_oom_killer(matrix: Path, env_cache: Path, tmp_path: Path) -> None:
    """A real kernel OOM kill: the run goes in a memory cgroup; the second cell allocates past its limit."""
    group = _memory_cgroup(f"orchestrate-test-oom-{os.getpid()}")
    assert group is not None, "no writable memory cgroup (v1 or v2) here: this test needs one"
    cgroup, limit_file = group
    data = tmp_path / "data"
    data.mkdir()
    probe = data / "probe.txt"
    probe.write_text("ok")
    try:
        (cgroup / limit_file).write_text(str(1536 * 2**20))
        memsw = cgroup / "memory.memsw.limit_in_bytes"
        if memsw.exists():
            memsw.write_text(str(1536 * 2**20))
        args = run_args(matrix, tmp_path, "oom", env_cache, *PAIR, "--workload", "readsdata", "--data-dir", str(data))
        proc = subprocess.Popen([sys.executable, "-m", "orchestrator.cli", *args], stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True,
                                preexec_fn=lambda: (cgroup / "cgroup.procs").write_text(str(os.getpid())))
        run = tmp_path / "oom"
        first, second = pair_ids("readsdata")
        wait_for(lambda: (run / "cells" / f"{first}.json").exists(), 180, "the first cell to be written")
        probe.write_text("allocate")  # the second cell allocates until the kernel kills it
        out = finish(proc)
        assert proc.returncode == 1, out
        killed = read_cell(run / "cells" / f"{second}.json")
        assert killed.status == "failed" and "SIGKILL" in killed.error.message, killed.error
        events = (cgroup / "memory.events").read_text() if (cgroup / "memory.events").exists() else \
            (cgroup / "memory.oom_control").read_text()
        assert "oom_kill 1" in events, events  # the kernel's OOM killer did it
    finally:
        for pid in (cgroup / "cgroup.procs").read_text().split():
            os.kill(int(pid), signal.SIGKILL)
        cgroup.rmdir()
    kept = valid_ok(run)
    assert list(kept) == [first]
    probe.write_text("ok")
    done = subprocess.run([sys.executable, "-m", "orchestrator.cli", *args, "--resume"], capture_output=True,
                          text=True, timeout=300)
    assert_resumed(done, run, kept, 2)


def test_data_folder_vanishing_mid_run(matrix: Path, env_cache: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "probe.txt").write_text("ok")
    proc, run = start_pair(matrix, tmp_path / "results", "nodata", env_cache, "--data-dir", str(data),
                           workload="readsdata")
    first, second = pair_ids("readsdata")
    data.rename(tmp_path / "data-away")
    out = finish(proc)
    assert proc.returncode == EXIT_FAULT, out
    assert f"data directory {data}: vanished during the run" in out
    failed = read_cell(run / "cells" / f"{second}.json")
    assert failed.status == "failed" and "probe.txt" in failed.error.message + failed.error.log_tail
    kept = valid_ok(run)
    assert list(kept) == [first]

    (tmp_path / "data-away").rename(data)
    assert_resumed(resume_with_printed_command(out), run, kept, 2)
