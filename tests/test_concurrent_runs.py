"""Load: four `orchestrate run`s at once on one machine, different run ids, one shared environment
cache. Each finishes with its own correct results and summary, and each warns that the machine is busy, naming
the other runs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator.measure.host import _is_run, busy_note
from orchestrator.results.io import load_cells

pytestmark = pytest.mark.integration


def test_other_runs_make_the_machine_busy_whatever_the_load_says() -> None:
    assert busy_note([0.1, 0.1, 0.1], 2) is None
    note = busy_note([0.1, 0.1, 0.1], 2, [41, 42])
    assert note is not None and note.startswith("machine busy: 2 other orchestrate run(s) on this machine (pid 41, 42)")
    assert _is_run(["/x/.venv/bin/python", "/x/.venv/bin/orchestrate", "run", "matrix.yaml"])
    assert _is_run(["python3", "-m", "orchestrator.cli", "run"])
    assert not _is_run(["/x/.venv/bin/python", "/x/.venv/bin/orchestrate", "build", "keras3-jax"])
    assert not _is_run(["python3", "-m", "pytest", "tests/test_run.py"])


def test_four_runs_at_once_share_environments_and_keep_their_own_results(repo: Path, env_cache: Path,
                                                                          tmp_path: Path) -> None:
    text = (repo / "tests" / "workloads" / "matrix.yaml").read_text()
    text = text.replace("../../requirements/keras3-jax.txt", str(repo / "requirements" / "keras3-jax.txt"))
    text = text.replace("workloads_dir: .", f"workloads_dir: {repo / 'tests' / 'workloads'}")
    (tmp_path / "matrix.yaml").write_text(text)
    results = tmp_path / "results"
    procs = {}
    for i in range(4):
        out = open(tmp_path / f"run{i}.out", "w")
        procs[f"load{i}"] = subprocess.Popen(
            [sys.executable, "-m", "orchestrator.cli", "run", str(tmp_path / "matrix.yaml"), "--profile", "pair",
             "--workload", "sleepy", "--runtime", "local", "--results-dir", str(results), "--run-id", f"load{i}",
             "--cache-dir", str(env_cache), "--no-report"], stdout=out, stderr=subprocess.STDOUT)
        out.close()
    try:
        codes = {run_id: p.wait(900) for run_id, p in procs.items()}
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.kill()
                p.wait()
    outputs = {run_id: " ".join((tmp_path / f"run{i}.out").read_text().split()) for i, run_id in enumerate(procs)}
    assert codes == dict.fromkeys(procs, 0), outputs
    for run_id, out in outputs.items():
        others = [str(p.pid) for other, p in procs.items() if other != run_id]
        assert "warning: machine busy:" in out and "other orchestrate run(s) on this machine" in out, out
        assert any(pid in out.split("on this machine (pid ")[1].split(")")[0] for pid in others)
        cells = load_cells(results / run_id).results
        assert len(cells) == 2 and {c.status for c in cells} == {"ok"} and {c.run_id for c in cells} == {run_id}
        for cell in cells:  # each epoch of the sleepy workload sleeps 0.5 s
            assert len(cell.timings.epochs_s) == 6 and cell.timings.steady_state_s >= 0.45
        summary = json.loads((results / run_id / "summary.json").read_text())
        assert sorted(r["cell_id"] for r in summary["cells"]) == sorted(c.cell_id for c in cells)
        assert summary["run_id"] == run_id and {r["run_id"] for r in summary["cells"]} == {run_id}
