"""The one interface every runtime offers: prepare an environment once, run cells in it."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from orchestrator.environments import EnvPaths
from orchestrator.matrix import Cell, Environment, LoadedMatrix
from orchestrator.results import CellResult, RunDir
from orchestrator.slots import Slot, gpu_count, plan_slots

Log = Callable[[str], None]


@dataclass(frozen=True)
class Prepared:
    """An environment that is ready to run cells."""

    name: str
    environment: Environment
    env_hash: str
    paths: EnvPaths
    python_version: str
    packages: dict[str, str] = field(default_factory=dict)
    reused: bool = False
    image: str | None = None


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


class Runtime(ABC):
    """A way to prepare environments and run cells in them (local virtualenv, Docker, ...)."""

    name: str = "base"

    def __init__(self, loaded: LoadedMatrix, cache: Path, log: Log | None = None) -> None:
        self.loaded = loaded
        self.cache = cache
        self.log: Log = log or (lambda message: None)
        self._prepared: dict[str, Prepared] = {}

    def prepare(self, env_name: str, force: bool = False) -> Prepared:
        """Prepare an environment once per runtime object; reuse it when nothing that defines it changed."""
        if force or env_name not in self._prepared:
            self._prepared[env_name] = self._prepare(env_name, force)
        return self._prepared[env_name]

    @abstractmethod
    def _prepare(self, env_name: str, force: bool) -> Prepared:
        """Build (or reuse) the environment."""

    @abstractmethod
    def run_cell(self, cell: Cell, prepared: Prepared, ctx: RunContext) -> CellResult:
        """Run one cell to completion (or timeout) and return its result; never raise for a cell's failure.

        Raise InfrastructureError when the machinery failed (e.g. a container did not start): the scheduler
        retries those.
        """

    def slots(self, requested: int | None) -> list[Slot]:
        """Where cells can run at once: one slot per GPU of this machine, else `requested` CPU slots (default 1)."""
        gpus, note = gpu_count()
        if note:
            self.log(note)
        return plan_slots(requested, gpus)

    def close(self) -> None:
        """Release what the runtime holds (a cluster connection); called once at the end of a run."""
