"""One build of an environment at a time, whoever shares its cache: two terminals, several runs, Ray workers on
one node or on a shared filesystem. A `filelock` lock per environment (an OS lock: released by the kernel
when its holder dies, even by SIGKILL); the holder writes who it is beside the lock, so a waiter can say whom
it waits for. The one who waited then finds the environment ready and reuses it.

A build that did not finish leaves its claim (`building.json` in the environment's folder, removed when the
ready marker is written): the next builder says whose build it was and starts again from a clean folder.
"""

from __future__ import annotations

import json
import os
import socket
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from filelock import FileLock, Timeout

from orchestrator.environments.layout import EnvPaths
from orchestrator.core.files import write_json_atomic

Log = Callable[[str], None]


def _me() -> dict[str, object]:
    return {"pid": os.getpid(), "host": socket.gethostname(), "since": time.strftime("%Y-%m-%dT%H:%M:%S%z")}


def describe(record: dict[str, object] | None) -> str:
    """`pid N on host H` from a holder's or builder's record."""
    if not record:
        return "by a process that left no record"
    return f"pid {record.get('pid')} on host {record.get('host')}, since {record.get('since')}"


def _read(path: Path) -> dict[str, object] | None:
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


@contextmanager
def env_lock(paths: EnvPaths, env_name: str, log: Log, quiet_s: float = 2.0) -> Iterator[None]:
    """Hold the lock of one environment while it is checked, built or reused; say so when waiting for it longer
    than `quiet_s` (another process checking that it is up to date takes about a second)."""
    lock_path = paths.root.parent / f".{paths.root.name}.lock"
    holder = paths.root.parent / f".{paths.root.name}.holder.json"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(lock_path))
    try:
        lock.acquire(timeout=quiet_s)
    except Timeout:
        log(f"waiting for another build of {env_name} ({describe(_holder(holder))})")
        lock.acquire()
    try:
        write_json_atomic(holder, _me())
        yield
    finally:
        holder.unlink(missing_ok=True)
        lock.release()


def _holder(path: Path) -> dict[str, object] | None:
    """The holder's record; it is written just after the lock is taken, so wait for it a moment."""
    for _ in range(20):
        record = _read(path)
        if record:
            return record
        time.sleep(0.05)
    return None


def claim_build(paths: EnvPaths) -> dict[str, object] | None:
    """Mark the environment as being built by this process; return the claim of an earlier build that did not
    finish (its builder was killed or its machine went down), if there is one."""
    left = _read(paths.building) if paths.building.exists() else None
    paths.root.mkdir(parents=True, exist_ok=True)
    write_json_atomic(paths.building, _me())
    return left or ({} if paths.venv.exists() and not paths.marker.exists() else None)


def release_build(paths: EnvPaths) -> None:
    """The build finished (ready marker written) or failed cleanly: no claim is left behind."""
    paths.building.unlink(missing_ok=True)
