"""Faults while a run writes its results (a full disk, a read-only, vanished or no longer permitted folder) or
reads its data (the data directory gone): each becomes a RunFault that stops the run cleanly, never a traceback.

The run then ends with EXIT_FAULT, having said what was written, what was not, and the command that resumes it.
"""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass
from pathlib import Path

from orchestrator.rundir.layout import RunDir

EXIT_FAULT = 74  # EX_IOERR (sysexits.h): an input/output fault stopped the run; --resume continues it

# Errors of the disk or the folder, wherever they come from; other errors count only under the run's folder.
_DISK_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO, errno.ESTALE}
_FIXES = {
    errno.ENOSPC: "free some space",
    errno.EDQUOT: "free some space (disk quota)",
    errno.EROFS: "make the results folder writable again",
    errno.EACCES: "give the results folder back its write permission",
    errno.EPERM: "give the results folder back its write permission",
    errno.ENOENT: "put the run's folder back",
}


@dataclass(frozen=True)
class RunFault:
    """Why a run was stopped: what could not be written or read, where, and the system's reason."""

    what: str
    path: Path | None
    reason: str
    fix: str

    @property
    def message(self) -> str:
        where = f" {self.path}" if self.path else ""
        return f"{self.what}{where}: {self.reason}"


def as_write_fault(exc: BaseException, run_dir: RunDir, what: str, path: Path | None = None,
                   anywhere: bool = False) -> RunFault | None:
    """The fault that `exc` is, or None when it is not one: an OSError of the disk, or any OSError under the
    run's folder (`anywhere`: any OSError at all, for a write known to target the run's folder)."""
    if not isinstance(exc, OSError):
        return None
    where = Path(exc.filename) if isinstance(exc.filename, str) else path
    inside = where is not None and run_dir.path in (where, *where.parents)
    if not (anywhere or exc.errno in _DISK_ERRNOS or inside):
        return None
    reason = exc.strerror or str(exc)
    if exc.errno is not None:
        reason += f" ({errno.errorcode.get(exc.errno, exc.errno)})"
    return RunFault(f"cannot write {what}", path or where, reason, _FIXES.get(exc.errno or 0, "fix the results folder"))


class FolderWatch:
    """Notices when the run's folder or the data folder vanishes (moved, deleted, unmounted) during the run.

    A vanished run folder is not recreated half-empty behind the user's back: the run stops instead.
    """

    def __init__(self, run_dir: RunDir, data_dir: Path | None) -> None:
        self.run_dir = run_dir
        self.data_dir = data_dir
        self._identity = _identity(run_dir.path)

    def run_dir_fault(self) -> RunFault | None:
        if self._identity is not None and _identity(self.run_dir.path) != self._identity:
            return RunFault("the run's folder", self.run_dir.path,
                            "vanished during the run (moved, deleted or unmounted)", _FIXES[errno.ENOENT])
        return None

    def data_dir_fault(self) -> RunFault | None:
        if self.data_dir is not None and not self.data_dir.is_dir():
            return RunFault("data directory", self.data_dir, "vanished during the run (moved, deleted or unmounted)",
                            "put the data directory back")
        return None

    def fault(self) -> RunFault | None:
        return self.run_dir_fault() or self.data_dir_fault()


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def drop_empty_files(run_dir: RunDir, cell_id: str) -> list[Path]:
    """Remove a cell's log, events, spec and monitor files that hold no data (empty, or a CSV header only), so
    that a write that failed never leaves a file that looks like a record. Returns what was removed."""
    stem = run_dir.logs_dir / cell_id
    candidates = [stem.with_name(stem.name + suffix) for suffix in (".log", ".events.jsonl", ".spec.json")]
    candidates.append(run_dir.cells_dir / f"{cell_id}.monitor.csv")
    removed = []
    for path in candidates:
        try:
            with open(path, "rb") as fh:
                head = fh.read(65536)
            if head.count(b"\n") <= (1 if path.suffix == ".csv" else 0) and (path.suffix == ".csv" or not head):
                path.unlink()
                removed.append(path)
        except OSError:
            continue
    return removed
