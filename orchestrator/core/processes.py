"""What every child process the orchestrator starts shares: it dies with the thread that started it, and its log's
last lines are what an error shows.

Used both by environment builds (each installer step) and by cells' harness processes (orchestrator/execution/
process.py), so it lives below both.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from pathlib import Path
from typing import Callable

LOG_TAIL_CHARS = 4000

_PR_SET_PDEATHSIG = 1
_SIGKILL = int(signal.SIGKILL)


def child_setup(cpus: tuple[int, ...]) -> Callable[[], None]:
    """What the child does between fork and exec: die with its parent thread, and keep to its cores.

    Only pre-resolved, allocation-light calls, since the orchestrator runs cells from several threads.
    """
    prctl = _prctl()

    def setup() -> None:
        if prctl is not None:
            prctl(_PR_SET_PDEATHSIG, _SIGKILL)
        if cpus:
            os.sched_setaffinity(0, cpus)

    return setup


def dies_with_parent() -> Callable[[], None]:
    """A preexec_fn for any helper process (a build step): it is killed when the thread that started it dies."""
    return child_setup(())


def _prctl() -> Callable[[int, int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl
    except (OSError, AttributeError):
        return None


def tail(path: Path, chars: int = LOG_TAIL_CHARS) -> str:
    """The last `chars` characters of a log file ("" when it cannot be read)."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            fh.seek(max(0, size - chars))
            return fh.read().decode(errors="replace")
    except OSError:
        return ""
