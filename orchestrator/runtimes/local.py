"""The embedded default runtime: cells run as child processes of this host, in environments prepared here.

Preparing an environment is orchestrator/environments/ work (a venv built or reused: venv.py; an interpreter
already set up: existing.py); this runtime only starts each cell's harness process, pinned to its slot's cores: a
fresh process, or for an environment with `warm_start: true` a child forked from its warm parent (execution/warm.py).
"""

from __future__ import annotations

import threading
from pathlib import Path

from orchestrator.config.cell import Cell
from orchestrator.config.load import LoadedMatrix
from orchestrator.core import workload_files
from orchestrator.environments.existing import prepare_existing
from orchestrator.environments.layout import cell_process_env
from orchestrator.environments.prepared import Prepared
from orchestrator.environments.system_packages import PackageManager, ensure_system_packages, needed
from orchestrator.environments.venv import prepare_venv
from orchestrator.execution.context import RunContext
from orchestrator.execution.process import HarnessOutcome, run_process
from orchestrator.execution.warm import Spawner, WarmParent
from orchestrator.runtimes.base import HarnessLaunch, Log, Runtime


class LocalRuntime(Runtime):
    name = "local"
    packages = PackageManager()  # how system packages are queried and installed here (a test gives its own)

    def __init__(self, loaded: LoadedMatrix, cache: Path, log: Log | None = None, warm: bool = True) -> None:
        """`warm`: fork the cells of `warm_start` environments from warm parents (a Ray node's one-cell runtime
        does not: nothing would stop its parents)."""
        super().__init__(loaded, cache, log)
        self.warm = warm
        self._warm: dict[tuple, WarmParent] = {}
        self._warm_lock = threading.Lock()
        self._spawner: Spawner | None = None

    def prepare_host(self, env_names: list[str]) -> None:
        """Install the system packages the environments list (or stop with the command to run)."""
        ensure_system_packages(needed(self.loaded, env_names), self.cache / "system-packages.log", self.log,
                               self.packages)

    def _prepare(self, env_name: str, force: bool) -> Prepared:
        env = self.loaded.matrix.environments[env_name]
        if env.build == "none":  # an interpreter already set up: checked and recorded, never built or changed
            return prepare_existing(self.loaded, env_name, self.cache, self.log)
        return prepare_venv(self.loaded, env_name, self.cache, self.log, force, self.packages.query)

    def _cell_env(self, cell: Cell, prepared: Prepared, ctx: RunContext) -> dict[str, str]:
        env_vars = cell_process_env(prepared.paths, prepared.environment, cell.threads, cell.seed)
        env_vars.update(ctx.slot.env() if ctx.slot else {})
        return env_vars

    def _execute(self, launch: HarnessLaunch) -> HarnessOutcome:
        """A child process in its own process group, pinned to the slot's cores, dying with its parent: a fresh
        process, or forked from the environment's warm parent (`warm_start: true`)."""
        if self.warm and launch.prepared.environment.warm_start and launch.spec_path is not None:
            return self._warm_parent(launch).run(launch.spec_path, launch.events_path, launch.log_path,
                                                 launch.cell.timeout_s, launch.limits, on_start=launch.on_start)
        return run_process(launch.command, launch.env, launch.events_path, launch.log_path, launch.cell.timeout_s,
                           cwd=workload_files.workloads_dir(), limits=launch.limits, on_start=launch.on_start)

    def _warm_parent(self, launch: HarnessLaunch) -> WarmParent:
        """The environment's warm parent for this slot and these variables (the hash seed aside), started once;
        again when it died."""
        env = {k: v for k, v in launch.env.items() if k != "PYTHONHASHSEED"}
        slot = launch.ctx.slot
        key = (launch.prepared.name, launch.command[0], slot.cpus if slot else (), tuple(sorted(env.items())))
        with self._warm_lock:
            spawner = self._spawner = self._spawner or Spawner()
            parent = self._warm.get(key)
            if parent is None or not parent.alive():
                log = launch.log_path.parent / f"warm-parent-{launch.prepared.name}-{len(self._warm)}.log"
                parent = spawner.call(lambda: WarmParent(
                    launch.command[0], workload_files.workloads_dir() / "warm_parent.py", launch.env,
                    workload_files.workloads_dir(), log))
                self.log(f"{launch.prepared.name}: warm start: parent pid {parent.pid} imported the framework in "
                         f"{parent.import_s:.1f} s")
                self._warm[key] = parent
            return parent

    def close(self) -> None:
        """Stop the warm parents by their PIDs."""
        with self._warm_lock:
            for parent in self._warm.values():
                parent.stop()
            self._warm = {}
