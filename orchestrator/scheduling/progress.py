"""Progress of a run: cells done / failed / left, each running cell with its epoch (read from its events file
as it grows), and an ETA from the cells finished so far. A live display on a terminal, plain lines otherwise.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from orchestrator.config.cell import Cell
from orchestrator.core.protocol import EVENT_FIELD, Event
from orchestrator.execution.slots import Slot
from orchestrator.execution.spec import spec_paths
from orchestrator.results.schema import CellResult
from orchestrator.scheduling.scheduler import Observer

_OK = ("ok", "unsupported")


@dataclass
class _Running:
    cell: Cell
    slot: Slot
    started: float
    events: Path


class RunProgress(Observer):
    """Counts and a live view of a run; use as a context manager around Scheduler.run."""

    def __init__(self, console: Console, logs_dir: Path, live: bool | None = None) -> None:
        self.console = console
        self.logs_dir = logs_dir
        self.live_enabled = console.is_terminal if live is None else live
        self.total = 0
        self.slots = 1
        self.done = 0
        self.failed = 0
        self.durations: list[float] = []
        self.running: dict[str, _Running] = {}
        self.started = time.monotonic()
        self._lock = threading.Lock()
        self._live: Live | None = None

    # ---------------------------------------------------------------- context

    def __enter__(self) -> "RunProgress":
        if self.live_enabled:
            self._live = Live(self, console=self.console, refresh_per_second=2, transient=True)
            self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.__exit__(None, None, None)
            self._live = None

    # ---------------------------------------------------------------- observer

    def on_plan(self, cells: list[Cell], slots: list[Slot]) -> None:
        self.total = self.done + len(cells)  # a sequential run plans again each round (commands/rounds.py)
        self.slots = max(1, len(slots))
        if not self.done:
            self.started = time.monotonic()

    def on_start(self, cell: Cell, slot: Slot) -> None:
        events = spec_paths(self.logs_dir, cell)[1]
        with self._lock:
            self.running[cell.cell_id] = _Running(cell, slot, time.monotonic(), events)
        if not self.live_enabled:
            self.console.print(f"  start {cell.cell_id} on {slot.name}", markup=False, highlight=False)

    def on_result(self, result: CellResult) -> None:
        with self._lock:
            run = self.running.pop(result.cell_id, None)
            self.done += 1
            if result.status not in _OK:
                self.failed += 1
            if run is not None:
                self.durations.append(time.monotonic() - run.started)
        took = f" in {self.durations[-1]:.1f} s" if run is not None else ""
        reason = f" ({result.reason})" if result.reason else ""
        attempts = f" after {result.attempts} attempts" if result.attempts > 1 else ""
        style = "green" if result.status in _OK else "red"
        self.console.print(Text.assemble("  ", (result.status, style), f" {result.cell_id}{took}{attempts}{reason}"))
        if not self.live_enabled:
            self.console.print(f"  [{self.counts()}]", markup=False, highlight=False)

    def on_interrupt(self, count: int) -> None:
        if count == 1:
            self.console.print("[yellow]interrupted: no new cells will start; the running ones finish "
                               "(press Ctrl-C again to stop them)[/yellow]")
        elif count == 2:
            self.console.print("[yellow]interrupted again: stopping the running cells[/yellow]")

    def on_note(self, message: str) -> None:
        self.console.print(message, style="yellow", markup=False, highlight=False)  # build logs hold brackets

    # ---------------------------------------------------------------- figures

    def left(self) -> int:
        return self.total - self.done

    def eta_s(self) -> float | None:
        """Seconds until the last cell ends: the mean cell time so far, times the waves of cells left."""
        if self.left() == 0:
            return 0.0
        if not self.durations:
            return None
        mean = sum(self.durations) / len(self.durations)
        now = time.monotonic()
        with self._lock:
            running_left = [max(0.0, mean - (now - r.started)) for r in self.running.values()]
            queued = self.left() - len(self.running)
        return max(running_left, default=0.0) + mean * queued / self.slots

    def counts(self) -> str:
        eta = self.eta_s()
        eta_text = _duration(eta) if eta is not None else "unknown until a cell ends"
        return (f"{self.done}/{self.total} done, {self.failed} failed, {self.left()} left, "
                f"elapsed {_duration(time.monotonic() - self.started)}, ETA {eta_text}")

    def __rich__(self) -> Group:
        table = Table(box=None, show_header=False, padding=(0, 1))
        with self._lock:
            running = list(self.running.values())
        for run in running:
            table.add_row(Text("running", style="cyan"), run.cell.cell_id, run.slot.name,
                          epoch_text(run.events, run.cell.epochs), _duration(time.monotonic() - run.started))
        return Group(Text(f"cells: {self.counts()}", style="bold"), table)


# What a cell is doing once the event of that kind has been written.
_PHASE_AFTER = {Event.START: "loading data", Event.DATA: "building the model", Event.MODEL: "training",
                Event.EVALUATE: "evaluating"}


def epoch_text(events: Path, epochs: int) -> str:
    """The current epoch (`epoch 2/3`) from the epoch events in a growing events file, or the phase before/after."""
    phase, epoch = "importing Keras", 0
    try:
        lines = events.read_text(errors="replace").splitlines()
    except OSError:
        return "running"  # no events here (yet): a remote node's cell, or one still preparing
    for line in lines:
        try:
            event = json.loads(line)
        except ValueError:
            continue  # a line still being written
        kind = event.get(EVENT_FIELD)
        if kind == Event.EPOCH:
            epoch = max(epoch, int(event.get("epoch", 0)))
        elif kind in _PHASE_AFTER:
            phase = _PHASE_AFTER[kind]
    if phase == "training":
        return f"epoch {min(epoch + 1, epochs)}/{epochs}"
    return phase


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
