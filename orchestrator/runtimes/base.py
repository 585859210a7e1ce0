"""The one interface every runtime offers: prepare an environment once, run cells in it."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from orchestrator.environments import EnvPaths
from orchestrator.matrix import Cell, Environment, LoadedMatrix
from orchestrator.results import CellResult, RunDir

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
    """What a cell run needs beyond the cell: where results go and where data lives."""

    run_dir: RunDir
    data_dir: Path | None
    monitor_hz: float = 10.0
    # The GPU (NVML index or UUID) assigned to the cell by the scheduler; None: the runtime's default
    # (the Docker runtime's GPU images then use GPU 0).
    device: str | None = None


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
        """Run one cell to completion (or timeout) and return its result; never raise for a cell's failure."""
