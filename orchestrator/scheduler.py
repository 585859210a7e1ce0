"""Runs a plan of cells: prepares each environment once, runs cells one at a time, writes each result.

A failed environment build fails that environment's cells (with the build log tail) and the run goes on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from orchestrator.cells import now_iso
from orchestrator.errors import OrchestratorError
from orchestrator.host import host_info
from orchestrator.matrix import Cell
from orchestrator.results import CellResult, EnvironmentInfo, ErrorInfo, Threads, WorkloadInfo
from orchestrator.runtimes.base import Prepared, RunContext, Runtime

OnResult = Callable[[CellResult], None]


@dataclass
class Scheduler:
    runtime: Runtime
    ctx: RunContext
    on_result: OnResult | None = None

    def run(self, cells: list[Cell]) -> list[CellResult]:
        results = []
        broken: dict[str, OrchestratorError] = {}
        for cell in cells:
            result = self._run_one(cell, broken)
            self.ctx.run_dir.write_cell(result)
            results.append(result)
            if self.on_result:
                self.on_result(result)
        return results

    def _run_one(self, cell: Cell, broken: dict[str, OrchestratorError]) -> CellResult:
        started = now_iso()
        if cell.environment not in broken:
            try:
                prepared = self.runtime.prepare(cell.environment)
            except OrchestratorError as exc:
                broken[cell.environment] = exc
        if cell.environment in broken:
            return environment_failure(cell, self.runtime, self.ctx.run_dir.run_id, broken[cell.environment],
                                       started)
        return self.runtime.run_cell(cell, prepared, self.ctx)


def environment_failure(cell: Cell, runtime: Runtime, run_id: str, exc: OrchestratorError,
                        started: str) -> CellResult:
    """The result of a cell whose environment could not be prepared."""
    env = runtime.loaded.matrix.environments[cell.environment]
    message = str(exc)
    return CellResult(
        run_id=run_id, cell_id=cell.cell_id, status="failed", reason=message.splitlines()[0],
        started_at=started, finished_at=now_iso(),
        environment=EnvironmentInfo(name=cell.environment, backend=env.backend, keras_version=env.keras,
                                    python_version=env.python, runtime=runtime.name,
                                    image_data_format=env.image_data_format),
        workload=WorkloadInfo(name=cell.workload, profile=cell.profile, epochs=cell.epochs,
                              batch_size=cell.batch_size, repeat=cell.repeat, seed=cell.seed),
        threads=Threads(requested=cell.threads), host=host_info(),
        error=ErrorInfo(type=type(exc).__name__, message=message.splitlines()[0], log_tail=message),
    )


__all__ = ["Scheduler", "Prepared", "environment_failure"]
