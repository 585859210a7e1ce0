"""The run's progress view: a live table on a terminal (running cells, their slot and epoch, counts, ETA) and
plain lines elsewhere (logs, CI). The plain lines of real runs are checked in tests/test_runtime_contract.py."""

from __future__ import annotations

import io
import json
from pathlib import Path

from rich.console import Console

from orchestrator.config.expand import expand
from orchestrator.config.load import load_matrix
from orchestrator.scheduling.progress import RunProgress
from orchestrator.results.schema import CellResult, EnvironmentInfo, Threads, WorkloadInfo
from orchestrator.execution.slots import Slot


def test_live_view_shows_each_running_cell_its_slot_and_epoch(repo: Path, tmp_path: Path) -> None:
    loaded = load_matrix(repo / "tests" / "workloads" / "matrix.yaml")
    cells = expand(loaded, profile="pair", workloads=["sleepy"])
    out = io.StringIO()
    progress = RunProgress(Console(file=out, force_terminal=True, width=120), tmp_path, live=True)
    slots = [Slot(index=0, label="cpu-slot0"), Slot(index=1, label="cpu-slot1")]
    progress.on_plan(cells, slots)
    progress.on_start(cells[0], slots[0])
    progress.on_start(cells[1], slots[1])
    events = tmp_path / f"{cells[0].cell_id}.events.jsonl"
    events.write_text("".join(json.dumps(e) + "\n" for e in (
        {"event": "start"}, {"event": "data"}, {"event": "model"}, {"event": "epoch", "epoch": 1},
        {"event": "epoch", "epoch": 2})))  # epochs count from 1: two done, the third running
    first = cells[0]
    progress.on_result(CellResult(
        run_id="r", cell_id=cells[1].cell_id, status="failed", reason="deliberate",
        environment=EnvironmentInfo(name=first.environment, backend="jax", keras_version="3", python_version="3.11",
                                    runtime="local"),
        workload=WorkloadInfo(name="sleepy", profile="pair", epochs=first.epochs, batch_size=16),
        threads=Threads(requested=1)))
    view = io.StringIO()
    Console(file=view, width=160).print(progress)
    text = view.getvalue()
    assert f"{first.cell_id} cpu-slot0 epoch 3/{first.epochs}" in " ".join(text.split())
    assert "1/2 done, 1 failed, 1 left" in text and "ETA" in text
    assert "start " not in out.getvalue()  # live: no plain start lines


def test_plain_lines_off_a_terminal(repo: Path, tmp_path: Path) -> None:
    loaded = load_matrix(repo / "tests" / "workloads" / "matrix.yaml")
    cell = expand(loaded, profile="pair", workloads=["sleepy"])[0]
    out = io.StringIO()
    progress = RunProgress(Console(file=out, width=120), tmp_path)
    progress.on_plan([cell], [Slot(index=0)])
    progress.on_start(cell, Slot(index=0))
    progress.on_interrupt(1)
    text = out.getvalue()
    assert f"start {cell.cell_id} on cpu-slot0" in text
    assert "no new cells will start" in text


def test_a_later_round_adds_to_the_plan_instead_of_replacing_it(repo: Path, tmp_path: Path) -> None:
    loaded = load_matrix(repo / "tests" / "workloads" / "matrix.yaml")
    cells = expand(loaded, profile="pair", workloads=["sleepy"])
    progress = RunProgress(Console(file=io.StringIO(), width=120), tmp_path, live=False)
    slots = [Slot(index=0, label="cpu-slot0")]
    progress.on_plan(cells, slots)
    first = cells[0]
    for cell in cells:
        progress.on_result(CellResult(
            run_id="r", cell_id=cell.cell_id, status="ok",
            environment=EnvironmentInfo(name=first.environment, backend="jax", keras_version="3",
                                        python_version="3.11", runtime="local"),
            workload=WorkloadInfo(name="sleepy", profile="pair", epochs=first.epochs, batch_size=16),
            threads=Threads(requested=1)))
    progress.on_plan(cells[:1], slots)  # sequential repeats: the next round (commands/rounds.py)
    assert progress.total == len(cells) + 1 and progress.done == len(cells)
