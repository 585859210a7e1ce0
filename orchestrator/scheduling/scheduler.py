"""Runs a plan of cells on device slots: cells launched in plan order on the first free slot, each environment
prepared once (by the first slot that needs it), each result written (atomically) as soon as its cell ends.

- Slots: one cell per GPU at a time; on a CPU-only machine one at a time unless the matrix sets `slots`.
- Timeouts and memory limits are enforced by the runtime on the cell's process (Cell.timeout_s, memory_limit_gb).
- Retries: only infrastructure failures (InfrastructureError: a build's network error, a container that did
  not start) are retried, up to the matrix's `retries`; a workload's own failure never is. Attempts are
  recorded in CellResult.attempts.
- A failed environment build fails that environment's cells (with the build log tail) and the run goes on.
- Interruption: the first Ctrl-C stops launching new cells and lets the running ones finish; a second one
  stops them (recorded as failed, type Interrupted). SIGTERM acts as a second Ctrl-C.
- Faults: a result or a cell's file that cannot be written (full disk, read-only or vanished folder, permissions)
  or a data directory that vanished stops the run like a second Ctrl-C; `fault` says why, `unsaved` holds the
  results that ended but could not be written (orchestrator/rundir/faults.py).
- Resume: the plan it is given is already filtered (resume.py keeps the valid ok results of an earlier attempt).
"""

from __future__ import annotations

import signal
import threading
import traceback
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from typing import Callable

from orchestrator.config.cell import Cell
from orchestrator.core.clock import now_iso
from orchestrator.core.errors import InfrastructureError, OrchestratorError
from orchestrator.environments.prepared import Prepared
from orchestrator.execution.assemble import failure_result
from orchestrator.execution.context import RunContext
from orchestrator.execution.slots import Slot
from orchestrator.results.schema import CellResult
from orchestrator.rundir import FolderWatch, RunFault, as_write_fault, drop_empty_files
from orchestrator.runtimes.base import Runtime

OnResult = Callable[[CellResult], None]
_UNSAVED = object()  # a cell that ended but whose result could not be written (a write fault)


class Observer:
    """What the scheduler tells a progress display; every method is optional."""

    def on_plan(self, cells: list[Cell], slots: list[Slot]) -> None: ...

    def on_start(self, cell: Cell, slot: Slot) -> None: ...

    def on_result(self, result: CellResult) -> None: ...

    def on_interrupt(self, count: int) -> None: ...

    def on_note(self, message: str) -> None: ...


@dataclass
class Scheduler:
    runtime: Runtime
    ctx: RunContext
    on_result: OnResult | None = None
    slots: list[Slot] | None = None
    retries: int = 2
    retry_delay_s: float = 5.0
    observer: Observer = field(default_factory=Observer)

    def __post_init__(self) -> None:
        self.slots = self.slots or [Slot(index=0)]
        self.stop_launching = threading.Event()
        self.cancel = self.ctx.cancel or threading.Event()
        self.interrupts = 0
        self.not_run: list[Cell] = []
        self._broken: dict[str, tuple[OrchestratorError, int]] = {}
        self._prepared: dict[str, Prepared] = {}
        self._env_locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self.watch = FolderWatch(self.ctx.run_dir, self.ctx.data_dir)
        self.fault: RunFault | None = None
        self.written: list[CellResult] = []
        self.unsaved: list[CellResult] = []

    # ---------------------------------------------------------------- interruption

    def interrupt(self) -> None:
        """First call: launch nothing new. Second: stop the running cells too."""
        self.interrupts += 1
        self.stop_launching.set()
        if self.interrupts >= 2:
            self.cancel.set()
        self.observer.on_interrupt(self.interrupts)

    def _install_signals(self) -> dict[int, object]:
        if threading.current_thread() is not threading.main_thread():
            return {}
        previous = {signal.SIGINT: signal.getsignal(signal.SIGINT), signal.SIGTERM: signal.getsignal(signal.SIGTERM)}
        signal.signal(signal.SIGINT, lambda signum, frame: self.interrupt())
        signal.signal(signal.SIGTERM, lambda signum, frame: (self.interrupt(), self.interrupt()))
        return previous

    # ---------------------------------------------------------------- the run

    def run(self, cells: list[Cell]) -> list[CellResult]:
        """Run `cells` in order on the slots; return the results written, in plan order.

        Cells not run are in `not_run`; after a fault (`fault`), results that could not be written are in `unsaved`.
        """
        assert self.slots
        self.observer.on_plan(cells, self.slots)
        previous = self._install_signals()
        try:
            return self._loop(cells)
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)  # type: ignore[arg-type]

    def _loop(self, cells: list[Cell]) -> list[CellResult]:
        assert self.slots
        pending = deque(enumerate(cells))
        free = list(self.slots)
        running: dict[Future[CellResult | RunFault | None], tuple[int, Cell, Slot]] = {}
        finished: list[tuple[int, CellResult]] = []
        not_run: list[tuple[int, Cell]] = []
        with ThreadPoolExecutor(max_workers=len(self.slots), thread_name_prefix="cell") as pool:
            while True:
                self._launch(pool, pending, free, running)
                if not running:
                    break
                # The main thread only launches and writes: results land on disk as soon as their cell ends,
                # even while another slot is still building its environment.
                done, _ = wait(running, timeout=0.5, return_when=FIRST_COMPLETED)
                for future in done:
                    index, cell, slot = running.pop(future)
                    result = self._collect(future.result(), cell)
                    if result is None:
                        not_run.append((index, cell))
                    elif result is not _UNSAVED:
                        finished.append((index, result))
                    free.append(slot)
                    free.sort(key=lambda s: s.index)
        self.not_run = [cell for _, cell in sorted(not_run + list(pending), key=lambda item: item[0])]
        return [result for _, result in sorted(finished, key=lambda item: item[0])]

    def _launch(self, pool: ThreadPoolExecutor, pending: deque[tuple[int, Cell]], free: list[Slot],
                running: dict[Future[CellResult | RunFault | None], tuple[int, Cell, Slot]]) -> None:
        """Start pending cells on the free slots, unless the run is stopping or its folders vanished."""
        while pending and free and not self.stop_launching.is_set():
            fault = self.watch.fault()
            if fault:
                self._stop_for(fault)
                return
            index, cell = pending.popleft()
            slot = free.pop(0)
            self.observer.on_start(cell, slot)
            running[pool.submit(self._run_cell, cell, slot)] = (index, cell, slot)

    def _collect(self, outcome: CellResult | RunFault | None, cell: Cell) -> CellResult | object | None:
        """What a finished slot returned: its result once written, _UNSAVED, or None (the cell did not run)."""
        if isinstance(outcome, RunFault):
            self._stop_for(outcome)
            drop_empty_files(self.ctx.run_dir, cell.cell_id)
            return None
        if outcome is None:
            return None
        return self._finish(outcome)

    def _finish(self, result: CellResult) -> CellResult | object:
        """Write a result; on a write fault keep it in `unsaved`, stop the run, and return _UNSAVED."""
        fault = self.watch.run_dir_fault()
        if fault is None:
            try:
                self.ctx.run_dir.write_cell(result)
            except OSError as exc:
                path = self.ctx.run_dir.cell_path(result.cell_id)
                fault = as_write_fault(exc, self.ctx.run_dir, f"the result of {result.cell_id} to", path,
                                       anywhere=True)
        if fault is not None:
            self.unsaved.append(result)
            drop_empty_files(self.ctx.run_dir, result.cell_id)
            self._stop_for(fault)
            return _UNSAVED
        self.written.append(result)
        self.observer.on_result(result)
        if self.on_result:
            self.on_result(result)
        fault = self.watch.data_dir_fault()  # a cell that failed for want of its data: stop before the next one
        if fault:
            self._stop_for(fault)
        return result

    def _stop_for(self, fault: RunFault) -> None:
        """The first fault stops the run: nothing new is launched, running cells are stopped."""
        if self.fault is None:
            self.fault = fault
            self.observer.on_note(f"stopping the run: {fault.message}")
        self.stop_launching.set()
        self.cancel.set()

    # ---------------------------------------------------------------- environments

    def _prepare(self, env_name: str) -> Prepared | None:
        """The prepared environment, built once (infrastructure failures retried); None if it is broken.

        Called from the slots' threads: one lock per environment, so it is built once while other slots wait.
        """
        with self._locks_guard:
            lock = self._env_locks.setdefault(env_name, threading.Lock())
        with lock:
            if env_name in self._prepared:
                return self._prepared[env_name]
            if env_name in self._broken:
                return None
            attempt = 0
            while True:
                attempt += 1
                try:
                    self._prepared[env_name] = self.runtime.prepare(env_name)
                    return self._prepared[env_name]
                except InfrastructureError as exc:
                    if attempt > self.retries or not self._pause_before_retry(env_name, exc, attempt):
                        self._broken[env_name] = (exc, attempt)
                        self._note_broken(env_name, exc)
                        return None
                except OrchestratorError as exc:
                    self._broken[env_name] = (exc, attempt)
                    self._note_broken(env_name, exc)
                    return None

    def _note_broken(self, env_name: str, exc: Exception) -> None:
        """Said once per environment; each of its cells is then recorded failed with this reason, none started."""
        if not self.stop_launching.is_set():
            self.observer.on_note(f"environment {env_name} cannot be prepared; its cells are recorded failed "
                                  f"without starting: {exc}")

    def _failed(self, cell: Cell, exc: BaseException, started: str, attempts: int,
                log_tail: str | None = None) -> CellResult:
        env = self.runtime.loaded.matrix.environments[cell.environment]
        return failure_result(cell, env, self.runtime.name, self.ctx.run_dir.run_id, exc, started, attempts,
                              log_tail=log_tail)

    # ---------------------------------------------------------------- cells

    def _run_cell(self, cell: Cell, slot: Slot) -> CellResult | RunFault | None:
        """Prepare and run one cell on its slot (in a worker thread); retry only infrastructure failures.

        None: the run was interrupted while the cell's environment was being prepared (the cell did not run).
        RunFault: writing the cell's files failed (a full disk, a read-only folder): the run stops.
        """
        prepared = self._prepare(cell.environment)
        if prepared is None:
            return self._not_prepared(cell)
        ctx = replace(self.ctx, slot=slot, cancel=self.cancel)
        attempt = 0
        while True:
            attempt += 1
            started = now_iso()
            try:
                result = self.runtime.run_cell(cell, prepared, ctx)
            except InfrastructureError as exc:
                if attempt > self.retries or not self._pause_before_retry(cell.cell_id, exc, attempt):
                    return self._failed(cell, exc, started, attempt)
                continue
            except Exception as exc:  # a bug in a runtime must not end the run: record it with its traceback
                return self._unexpected(cell, exc, started, attempt)
            # A runtime that retries by itself (Ray) reports its own attempts; add ours.
            return result.model_copy(update={"attempts": result.attempts + attempt - 1})

    def _not_prepared(self, cell: Cell) -> CellResult | None:
        """The cell of an environment that could not be prepared: failed, or not run if the run is stopping."""
        if self.stop_launching.is_set():  # an interrupted build is not a broken environment
            with self._locks_guard:
                self._broken.pop(cell.environment, None)
            return None
        exc, attempts = self._broken[cell.environment]
        return self._failed(cell, exc, now_iso(), attempts)

    def _unexpected(self, cell: Cell, exc: Exception, started: str, attempt: int) -> CellResult | RunFault:
        """A write fault (the cell's spec or log could not be written) stops the run; anything else is recorded
        as the cell's failure with its traceback."""
        fault = as_write_fault(exc, self.ctx.run_dir, f"the files of {cell.cell_id}")
        if fault:
            return fault
        return self._failed(cell, exc, started, attempt, log_tail=traceback.format_exc()[-6000:])

    def _pause_before_retry(self, what: str, exc: Exception, attempt: int) -> bool:
        """Say why, wait a little longer each time; False when the run is being stopped meanwhile."""
        delay = self.retry_delay_s * attempt
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        self.observer.on_note(f"{what}: infrastructure failure on attempt {attempt} ({first}); "
                              f"retrying in {delay:g} s")
        return not self.cancel.wait(delay)
