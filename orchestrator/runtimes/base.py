"""The one interface every runtime offers, and the one pipeline every cell goes through.

A cell runs the same way on every runtime: its spec is written, the monitor starts, the harness process runs
until it exits, passes its timeout, exceeds its memory limit or is cancelled, and the CellResult is assembled
from its events with the monitor's summary. All of that happens here, once. A runtime supplies only how the
harness process starts and stops (`_execute`), the environment it gets and the paths it sees (`_cell_env`,
`_interpreter`, `_dataset_cache`), and how an environment is prepared (`_prepare`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from orchestrator.core import workload_files
from orchestrator.execution.process import HarnessOutcome, Limits
from orchestrator.execution.assemble import assemble
from orchestrator.execution.spec import make_spec, spec_paths
from orchestrator.core.clock import now_iso
from orchestrator.measure.host import host_now
from orchestrator.config.cell import Cell
from orchestrator.config.load import LoadedMatrix
from orchestrator.measure.monitor import CellMonitor
from orchestrator.environments.prepared import Prepared
from orchestrator.execution.context import RunContext
from orchestrator.results.schema import CellResult, HostInfo
from orchestrator.core.files import write_json_atomic
from orchestrator.execution.slots import Slot, gpu_count, plan_slots

Log = Callable[[str], None]


@dataclass(frozen=True)
class HarnessLaunch:
    """One harness process to start, as the pipeline decided it; a runtime carries it out."""

    cell: Cell
    prepared: Prepared
    ctx: RunContext
    command: list[str]
    env: dict[str, str]
    events_path: Path
    log_path: Path
    on_start: Callable[[int | None], None] | None = None  # called with the host PID of the cell's process tree
    spec_path: Path | None = None  # the spec the command names (a warm parent's child reads it: execution/warm.py)

    @property
    def limits(self) -> Limits:
        """The cell's memory limit, its slot's cores and the run's cancel flag."""
        slot = self.ctx.slot
        return Limits(memory_gb=self.cell.memory_limit_gb, cpus=slot.cpus if slot else (), cancel=self.ctx.cancel)


class Runtime(ABC):
    """A way to prepare environments and run cells in them (local virtualenv, Docker, Ray)."""

    name: str = "base"
    memory_limit_how: str = "resident memory of the cell's process tree, sampled by the host every 0.2 s"

    def __init__(self, loaded: LoadedMatrix, cache: Path, log: Log | None = None) -> None:
        self.loaded = loaded
        self.cache = cache
        self.log: Log = log or (lambda message: None)
        self._prepared: dict[str, Prepared] = {}

    # ---------------------------------------------------------------- environments

    def prepare(self, env_name: str, force: bool = False) -> Prepared:
        """Prepare an environment once per runtime object; reuse it when nothing that defines it changed."""
        env = self.loaded.matrix.environments[env_name]
        if env.base is not None:  # a configuration: its base's build, its own settings and name
            return replace(self.prepare(env.base, force), name=env_name, environment=env)
        if force or env_name not in self._prepared:
            self._prepared[env_name] = self._prepare(env_name, force)
        return self._prepared[env_name]

    def prepare_host(self, env_names: list[str]) -> None:
        """Make this machine ready to build `env_names` (the local runtime installs their system packages);
        raise ConfigError, before any build, when it cannot and the user must act."""

    @abstractmethod
    def _prepare(self, env_name: str, force: bool) -> Prepared:
        """Build (or reuse) the environment."""

    # ---------------------------------------------------------------- the pipeline of one cell

    def run_cell(self, cell: Cell, prepared: Prepared, ctx: RunContext) -> CellResult:
        """Run one cell to completion (or timeout) and return its result; never raise for a cell's failure.

        Raise InfrastructureError when the machinery failed (e.g. a container did not start): the scheduler
        retries those.
        """
        spec_path, events_path, log_path = spec_paths(ctx.run_dir.logs_dir, cell)
        data_dir = str(ctx.data_dir) if ctx.data_dir else None
        write_json_atomic(spec_path, make_spec(cell, prepared, self.loaded, data_dir, self._dataset_cache(prepared)))
        env_vars = self._cell_env(cell, prepared, ctx)
        started, host = now_iso(), host_now()
        unfit = self._unfit(prepared, ctx)
        if unfit:  # nothing is started: the result says why this environment cannot run here
            outcome = HarnessOutcome.unsupported(unfit)
            return self._assemble(cell, prepared, outcome, ctx, started, env_vars, host)
        command = [self._interpreter(prepared), str(workload_files.harness_path()),
                   "--spec", str(spec_path), "--events", str(events_path)]
        monitor = CellMonitor.for_cell(ctx.run_dir.cells_dir, cell.cell_id, ctx.monitor_hz, env_vars, self.log)
        launch = HarnessLaunch(cell, prepared, ctx, command, env_vars, events_path, log_path,
                               on_start=monitor.watch if monitor else None, spec_path=spec_path)
        try:
            outcome = self._execute(launch)
        finally:
            if monitor:
                monitor.stop()
        result = self._assemble(cell, prepared, outcome, ctx, started, env_vars, host)
        return monitor.apply(result) if monitor else result

    def _assemble(self, cell: Cell, prepared: Prepared, outcome: HarnessOutcome, ctx: RunContext, started: str,
                  env_vars: dict[str, str], host: HostInfo) -> CellResult:
        return assemble(cell, prepared, outcome, ctx.run_dir.run_id, self.name, started, env_vars, host=host,
                        memory_limit_how=self.memory_limit_how)

    def _execute(self, launch: HarnessLaunch) -> HarnessOutcome:
        """Start the harness, wait until it exits, passes the cell's timeout, exceeds its memory limit or is
        cancelled (stopping it then), and return what it left behind."""
        raise NotImplementedError(f"the {self.name} runtime runs cells by its own run_cell")

    def _cell_env(self, cell: Cell, prepared: Prepared, ctx: RunContext) -> dict[str, str]:
        """The harness process's environment variables."""
        raise NotImplementedError

    def _interpreter(self, prepared: Prepared) -> str:
        """The Python that runs the harness, as the harness process sees it."""
        return str(prepared.paths.python)

    def _dataset_cache(self, prepared: Prepared) -> str:
        """Where the harness caches downloaded datasets, as it sees that folder."""
        return str(self.cache / "datasets")

    def _unfit(self, prepared: Prepared, ctx: RunContext) -> str | None:
        """Why this environment cannot run on the cell's slot (None: it can)."""
        return None

    # ---------------------------------------------------------------- slots and lifetime

    def slots(self, requested: int | None) -> list[Slot]:
        """Where cells can run at once: one slot per GPU of this machine, else `requested` CPU slots (default 1)."""
        gpus, note = gpu_count()
        if note:
            self.log(note)
        return plan_slots(requested, gpus)

    def close(self) -> None:
        """Release what the runtime holds (a cluster connection); called once at the end of a run."""


__all__ = ["HarnessLaunch", "Log", "Prepared", "RunContext", "Runtime"]
