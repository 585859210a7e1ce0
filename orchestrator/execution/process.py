"""Run the workload harness as a child process and collect what it reported.

The harness writes JSON-lines events to a file; its stdout/stderr go to a log file. The child runs in
its own process group so that a timeout stops the whole tree (by the group id of the PID we started).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import psutil

from orchestrator.core.processes import child_setup, tail
from orchestrator.core.protocol import EVENT_FIELD, Event


@dataclass
class HarnessOutcome:
    """What a harness process left behind."""

    returncode: int | None
    timed_out: bool
    wall_s: float
    events: list[dict[str, Any]] = field(default_factory=list)
    log_tail: str = ""
    signal_name: str | None = None
    # Set when the host stopped the process: it went over its memory limit, or the user interrupted the run.
    memory_exceeded_gb: float | None = None
    cancelled: bool = False

    @classmethod
    def unsupported(cls, reason: str) -> "HarnessOutcome":
        """A cell that was never started because its environment cannot run where it was placed."""
        event = {EVENT_FIELD: Event.UNSUPPORTED, "reason": reason}
        return cls(returncode=0, timed_out=False, wall_s=0.0, events=[event])

    def first(self, kind: str) -> dict[str, Any] | None:
        return next((e for e in self.events if e.get(EVENT_FIELD) == kind), None)

    def all(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get(EVENT_FIELD) == kind]


@dataclass
class Limits:
    """What the host enforces on a cell's process besides the timeout."""

    memory_gb: float | None = None          # resident memory of the whole process tree
    cpus: tuple[int, ...] = ()               # cores the process is pinned to (empty: no pinning)
    cancel: threading.Event | None = None    # set it to stop the process (a second Ctrl-C)
    poll_s: float = 0.2


def run_process(
    command: list[str],
    env: dict[str, str],
    events_path: Path,
    log_path: Path,
    timeout_s: float,
    cwd: Path | None = None,
    on_start: Callable[[int], None] | None = None,
    limits: Limits | None = None,
) -> HarnessOutcome:
    """Run `command` until it exits, passes `timeout_s`, exceeds its memory limit or is cancelled; then read
    its events and log tail. The process dies with the thread that started it (PR_SET_PDEATHSIG), so a
    killed orchestrator leaves no orphans."""
    limits = limits or Limits()
    events_path.unlink(missing_ok=True)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    watch = _Watch(limits)
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            command, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=child_setup(limits.cpus),
        )
        if on_start:
            on_start(proc.pid)
        try:
            watch.until_exit(proc, start + timeout_s)
        except BaseException:
            stop_process_group(proc)
            raise
        if watch.stop_reason:
            stop_process_group(proc)
    wall = time.perf_counter() - start
    rc = proc.returncode
    sig = signal.Signals(-rc).name if rc is not None and rc < 0 else None
    return HarnessOutcome(
        returncode=rc, timed_out=watch.stop_reason == "timeout", wall_s=wall,
        events=read_events(events_path), log_tail=tail(log_path), signal_name=sig,
        memory_exceeded_gb=watch.peak_gb if watch.stop_reason == "memory" else None,
        cancelled=watch.stop_reason == "cancelled",
    )


class _Watch:
    """Waits for a process while checking its deadline, its memory and the cancel flag."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.stop_reason: str | None = None
        self.peak_gb = 0.0

    def until_exit(self, proc: subprocess.Popen[bytes], deadline: float) -> None:
        while True:
            try:
                proc.wait(timeout=self.limits.poll_s)
                return
            except subprocess.TimeoutExpired:
                pass
            # The process tree is scanned only under a memory limit: it costs a few ms of CPU each time.
            rss = tree_rss_gb(proc.pid) if self.limits.memory_gb is not None else 0.0
            self.peak_gb = max(self.peak_gb, rss)
            if self.limits.memory_gb is not None and rss > self.limits.memory_gb:
                self.stop_reason = "memory"
            elif self.limits.cancel is not None and self.limits.cancel.is_set():
                self.stop_reason = "cancelled"
            elif time.perf_counter() >= deadline:
                self.stop_reason = "timeout"
            if self.stop_reason:
                return


def tree_rss_gb(pid: int) -> float:
    """Resident memory of a process and all its descendants, in GiB."""
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0.0
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            continue
    return total / 2**30


def stop_process_group(proc: subprocess.Popen[bytes], grace_s: float = 5.0) -> None:
    """SIGTERM the child's process group, then SIGKILL it if it does not exit in time."""
    for sig, wait in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 30.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue
    # Members of the group that outlived the leader.
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def read_events(path: Path) -> list[dict[str, Any]]:
    """Parse a JSON-lines events file, skipping a torn last line."""
    if not path.is_file():
        return []
    events = []
    for line in path.read_text(errors="replace").splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            item = json.loads(line)
        except ValueError:
            continue
        if isinstance(item, dict):
            events.append(item)
    return events
