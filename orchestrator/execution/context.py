"""Where a cell's run writes and what it runs with: the run folder, the data folder, the slot, the cancel event and
the monitor's rate, handed by the scheduler to a runtime for each cell."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from orchestrator.execution.slots import Slot
from orchestrator.rundir.layout import RunDir


@dataclass(frozen=True)
class RunContext:
    """What a cell run needs beyond the cell: where results go and where data lives.

    The scheduler gives each cell a copy with its `slot` (the GPU it may see, the cores it is pinned to) and
    the run's `cancel` flag (set on a second Ctrl-C: stop the cell now). A runtime applies both.
    """

    run_dir: RunDir
    data_dir: Path | None
    monitor_hz: float = 10.0
    slot: Slot | None = None
    cancel: threading.Event | None = None
