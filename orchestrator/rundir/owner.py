"""One owner per run directory: an OS file lock held for the whole run, and a record of who holds it.

The lock (`<results-dir>/.<run-id>.lock`, beside the run's folder so that `--fresh` can move the folder) is a
`filelock` lock: the kernel releases it when its process ends, however it ends (SIGKILL included), so a run whose
owner is gone can be resumed at once. The record (`<run>/owner.json`: host, pid, start time, command) names the
owner to anyone refused. The command is recorded with its passwords redacted (core/redaction.py): run folders
are zipped and shared.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import sys
from pathlib import Path

from filelock import FileLock, Timeout
from pydantic import BaseModel, ValidationError

from orchestrator.core.errors import ResultsError
from orchestrator.core.redaction import redact_argv
from orchestrator.rundir.layout import RunDir
from orchestrator.core.files import write_json_atomic


class RunInUse(ResultsError):
    """Another orchestrator owns the run directory."""


class OwnerRecord(BaseModel):
    host: str
    pid: int
    started_at: str
    command: list[str]

    @classmethod
    def of_this_process(cls) -> "OwnerRecord":
        return cls(host=socket.gethostname(), pid=os.getpid(),
                   started_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                   command=redact_argv([Path(sys.argv[0]).name, *sys.argv[1:]]))

    def describe(self) -> str:
        return f"pid {self.pid} on {self.host} (since {self.started_at}: `{' '.join(self.command)}`)"


def owner_path(run_dir: RunDir) -> Path:
    return run_dir.path / "owner.json"


def read_owner(run_dir: RunDir) -> OwnerRecord | None:
    try:
        return OwnerRecord.model_validate_json(owner_path(run_dir).read_text())
    except (OSError, ValidationError):
        return None


class RunOwnership:
    """Held while a run writes into its directory: `with RunOwnership(run_dir): ...`."""

    def __init__(self, run_dir: RunDir) -> None:
        self.run_dir = run_dir
        self.lock_path = run_dir.path.parent / f".{run_dir.path.name}.lock"
        self._lock = FileLock(str(self.lock_path), timeout=0)

    def claim(self) -> None:
        """Take the run directory, or raise RunInUse naming its owner (exit 2)."""
        try:
            self.lock_path.parent.mkdir(parents=True, exist_ok=True)
            self._lock.acquire()
        except Timeout:
            owner = read_owner(self.run_dir)
            who = owner.describe() if owner else "another orchestrator (its owner record is not written yet)"
            raise RunInUse(f"run {self.run_dir.run_id!r} in {self.run_dir.path.parent} is in use by {who}; "
                           "wait for it to end (then --resume), or choose another --run-id") from None
        except OSError as exc:
            raise ResultsError(f"results directory {self.lock_path.parent} is not writable ({exc.strerror}); "
                               "choose another with --results-dir") from None

    def record(self) -> OwnerRecord:
        """Write the owner record into the (existing) run directory."""
        owner = OwnerRecord.of_this_process()
        write_json_atomic(owner_path(self.run_dir), owner.model_dump(mode="json"))
        return owner

    def release(self) -> None:
        self._lock.release()

    def __enter__(self) -> "RunOwnership":
        self.claim()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
