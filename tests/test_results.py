"""Results IO: atomic writes, schema checks, merging that reports bad files instead of crashing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestrator.core.errors import ResultsError
from orchestrator.results.schema import SCHEMA_VERSION, CellResult, EnvironmentInfo, Threads, WorkloadInfo
from orchestrator.rundir.layout import RunDir
from orchestrator.results.io import load_cells, read_cell, write_summary
from orchestrator.core.files import write_json_atomic


def sample(cell_id: str = "e__w__smoke__r0", status: str = "ok") -> CellResult:
    return CellResult(
        run_id="r", cell_id=cell_id, status=status,  # type: ignore[arg-type]
        environment=EnvironmentInfo(name="e", backend="jax", keras_version="3", python_version="3.11",
                                    runtime="local"),
        workload=WorkloadInfo(name="w", profile="smoke", epochs=1, batch_size=8),
        threads=Threads(requested=1),
    )


def test_roundtrip(tmp_path: Path) -> None:
    run = RunDir(tmp_path, "r")
    run.ensure_writable()
    path = run.write_cell(sample())
    assert read_cell(path) == sample()
    assert json.loads(path.read_text())["schema_version"] == SCHEMA_VERSION


def test_atomic_write_leaves_no_temp_files(tmp_path: Path) -> None:
    write_json_atomic(tmp_path / "a.json", {"x": 1})
    write_json_atomic(tmp_path / "a.json", {"x": 2})
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]
    assert json.loads((tmp_path / "a.json").read_text()) == {"x": 2}


def test_failed_write_keeps_old_file(tmp_path: Path) -> None:
    write_json_atomic(tmp_path / "a.json", {"x": 1})
    with pytest.raises(TypeError):
        write_json_atomic(tmp_path / "a.json", {"x": object()})
    assert json.loads((tmp_path / "a.json").read_text()) == {"x": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_merge_reports_unreadable_and_invalid_files(tmp_path: Path) -> None:
    run = RunDir(tmp_path, "r")
    run.ensure_writable()
    run.write_cell(sample("good"))
    (run.cells_dir / "torn.json").write_text('{"schema_version": 1, "run_')
    bad = sample("edited").model_dump(mode="json")
    bad["status"] = "great"
    (run.cells_dir / "edited.json").write_text(json.dumps(bad))
    old = sample("old").model_dump(mode="json")
    old["schema_version"] = 0
    (run.cells_dir / "old.json").write_text(json.dumps(old))
    report = write_summary(run)
    assert [r.cell_id for r in report.results] == ["good"]
    reasons = {Path(p).name: why for p, why in report.rejected.items()}
    assert "unreadable" in reasons["torn.json"]
    assert "status" in reasons["edited.json"]
    assert "schema_version 0" in reasons["old.json"]
    summary = json.loads(run.summary_path.read_text())
    assert [c["cell_id"] for c in summary["cells"]] == ["good"] and len(summary["rejected"]) == 3


def test_unwritable_results_dir(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(ResultsError) as err:
        RunDir(blocker, "r").ensure_writable()
    assert "--results-dir" in str(err.value)


def test_load_cells_of_empty_run(tmp_path: Path) -> None:
    assert load_cells(tmp_path).results == []


def test_busy_machine_is_said_and_a_quiet_one_is_not() -> None:
    from orchestrator.measure.host import busy_note, load_average

    assert busy_note([1.9, 1.0, 0.5], 2) is not None and "1.90 on 2 core(s)" in busy_note([1.9, 1.0, 0.5], 2)
    assert busy_note([0.9, 2.0, 2.0], 2) is None  # only the last minute counts: the run starts now
    assert busy_note([], 2) is None and busy_note([5.0], None) is None  # no load average: nothing claimed
    now = load_average()
    assert len(now) == 3 and all(x >= 0 for x in now)  # Linux has /proc/loadavg
