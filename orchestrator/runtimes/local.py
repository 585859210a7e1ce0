"""The embedded default runtime: cells run as child processes of this host, in environments prepared here.

Preparing an environment is orchestrator/environments/ work (a venv built or reused: venv.py; an interpreter
already set up: existing.py); this runtime only starts each cell's harness process, pinned to its slot's cores.
"""

from __future__ import annotations

from orchestrator.config.cell import Cell
from orchestrator.core import workload_files
from orchestrator.environments.existing import prepare_existing
from orchestrator.environments.layout import cell_process_env
from orchestrator.environments.prepared import Prepared
from orchestrator.environments.system_packages import PackageManager, ensure_system_packages, needed
from orchestrator.environments.venv import prepare_venv
from orchestrator.execution.context import RunContext
from orchestrator.execution.process import HarnessOutcome, run_process
from orchestrator.runtimes.base import HarnessLaunch, Runtime


class LocalRuntime(Runtime):
    name = "local"
    packages = PackageManager()  # how system packages are queried and installed here (a test gives its own)

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
        """A child process in its own process group, pinned to the slot's cores, dying with its parent."""
        return run_process(launch.command, launch.env, launch.events_path, launch.log_path, launch.cell.timeout_s,
                           cwd=workload_files.workloads_dir(), limits=launch.limits, on_start=launch.on_start)
