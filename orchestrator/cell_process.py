"""Run the workload harness as a child process and collect what it reported.

The harness writes JSON-lines events to a file; its stdout/stderr go to a log file. The child runs in
its own process group so that a timeout stops the whole tree (by the group id of the PID we started).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

LOG_TAIL_CHARS = 4000


@dataclass
class HarnessOutcome:
    """What a harness process left behind."""

    returncode: int | None
    timed_out: bool
    wall_s: float
    events: list[dict[str, Any]] = field(default_factory=list)
    log_tail: str = ""
    signal_name: str | None = None

    def first(self, kind: str) -> dict[str, Any] | None:
        return next((e for e in self.events if e.get("event") == kind), None)

    def all(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("event") == kind]


def run_process(
    command: list[str],
    env: dict[str, str],
    events_path: Path,
    log_path: Path,
    timeout_s: float,
    cwd: Path | None = None,
    on_start: Callable[[int], None] | None = None,
) -> HarnessOutcome:
    """Run `command` until it exits or `timeout_s` passes; then read its events and log tail."""
    events_path.unlink(missing_ok=True)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    timed_out = False
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            command, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )
        if on_start:
            on_start(proc.pid)
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            timed_out = True
            stop_process_group(proc)
        except BaseException:
            stop_process_group(proc)
            raise
    wall = time.perf_counter() - start
    rc = proc.returncode
    sig = signal.Signals(-rc).name if rc is not None and rc < 0 else None
    return HarnessOutcome(
        returncode=rc, timed_out=timed_out, wall_s=wall,
        events=read_events(events_path), log_tail=tail(log_path), signal_name=sig,
    )


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


def tail(path: Path, chars: int = LOG_TAIL_CHARS) -> str:
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            fh.seek(max(0, size - chars))
            return fh.read().decode(errors="replace")
    except OSError:
        return ""
