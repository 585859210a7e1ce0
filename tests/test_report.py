"""Integration: a real smoke run (keras3-jax, mnist_mlp, 2 repeats, real MNIST, monitor at 10 Hz), then
`orchestrate report` rendered in headless Chromium and checked for what a reader sees, and `orchestrate compare`."""

from __future__ import annotations

import ctypes.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fake_nvml import fake_pynvml
from headless_chromium import Chromium
from orchestrator.cli import main
from orchestrator.measure.monitor import CellMonitor
from orchestrator.rundir.layout import RunDir
from orchestrator.results.io import load_cells

pytestmark = pytest.mark.integration

RUN_ID = "report-smoke"

READER_VIEW = """(async () => {
  await Promise.all([...document.images].map(img => img.decode().catch(() => null)));
  const text = el => el.innerText.trim();
  return {
    title: document.title,
    headings: [...document.querySelectorAll('h1, h2')].map(text),
    images: [...document.images].map(img => ({alt: img.alt, width: img.naturalWidth, height: img.naturalHeight,
                                              shown: img.getBoundingClientRect().width})),
    tables: Object.fromEntries([...document.querySelectorAll('table')].map(t => [t.id, {
      headers: [...t.querySelectorAll('th')].map(text),
      rows: [...t.tBodies[0].rows].map(r => [...r.cells].map(text))}])),
    external: [...document.querySelectorAll('[src], [href]')]
      .map(e => e.getAttribute('src') || e.getAttribute('href')).filter(u => !u.startsWith('data:')),
    text: document.body.innerText,
  };
})()"""


@pytest.fixture(scope="module")
def smoke_run(repo: Path, data_dir: Path, env_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two repeats of the smoke cell, through `orchestrate run` with the monitor on (default 10 Hz)."""
    root = tmp_path_factory.mktemp("report")
    shutil.copytree(repo / "requirements", root / "requirements")
    matrix = (repo / "matrix.yaml").read_text()
    smoke = "  smoke:\n    description: a few batches per workload, for CI\n"
    assert smoke in matrix, "the smoke profile of matrix.yaml changed: update this test"
    (root / "matrix.yaml").write_text(matrix.replace(smoke, smoke + "    repeats: 2\n"))
    rc = main(["run", str(root / "matrix.yaml"), "--profile", "smoke", "--env", "keras3-jax", "--workload",
               "mnist_mlp", "--results-dir", str(root / "results"), "--run-id", RUN_ID,
               "--data-dir", str(data_dir), "--cache-dir", str(env_cache)])
    assert rc == 0
    return root / "results" / RUN_ID


def test_each_real_cell_carries_its_monitor_summary_and_series(smoke_run: Path) -> None:
    results = load_cells(smoke_run).results
    assert [r.workload.repeat for r in results] == [0, 1] and all(r.status == "ok" for r in results)
    has_nvml = bool(ctypes.util.find_library("nvidia-ml"))
    for r in results:
        mon = r.monitor
        assert mon is not None and mon["hz"] == 10.0
        assert mon["samples"] >= 0.5 * 10 * mon["duration_s"] and mon["duration_s"] > 1
        assert mon["cpu"]["peak_rss_mb"] > 150  # Python + JAX + Keras + MNIST
        assert mon["cpu"]["mean_percent"] > 0
        assert len(r.host.load_average) == 3 and all(x >= 0 for x in r.host.load_average)  # taken before the cell
        if not has_nvml:
            assert mon["gpu_available"] is False and mon["gpu_note"].startswith("no GPU")
            assert r.host.gpus == [] and r.host.device == "cpu"
        series = smoke_run / "cells" / mon["series_file"]
        lines = series.read_text().splitlines()
        assert lines[0].startswith("t_s,cpu_percent,rss_mb,processes") and len(lines) == mon["samples"] + 1


def test_report_renders_in_headless_chromium(smoke_run: Path, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(smoke_run), "--target", "mnist_mlp=0.5", "--verbose"]) == 0
    out = capsys.readouterr().out
    report = smoke_run / "report"
    pngs = sorted(p.name for p in report.glob("*.png"))
    assert pngs == ["accuracy_mnist_mlp.png", "cpu_utilization_mnist_mlp.png", "epoch_time_mnist_mlp.png"]
    assert "repeats aggregated" in out and out.rstrip().endswith(f"report: {report / 'report.html'}")
    assert "keras3-jax is the only backend that counts" in out  # the ending, after the details

    with Chromium(tmp_path / "chromium-profile") as browser:
        browser.open((report / "report.html").as_uri())
        seen = browser.evaluate(READER_VIEW)
        shot = browser.screenshot(report / "screenshot.png")

    assert seen["title"] == f"orchestrate report: {RUN_ID}"
    assert seen["external"] == []  # self-contained: nothing but data URIs
    assert {"Verdict", "Summary", "Figures", "Cells", "Environments", "Machines", "Data provenance",
            "The 2017 article on a K80"} <= set(seen["headings"])
    assert seen["headings"][1] == "Verdict"  # the answer first
    verdict_table = seen["tables"]["verdict-table"]
    verdict = dict(zip(verdict_table["headers"], verdict_table["rows"][0]))
    assert verdict["fastest valid backend"] == "keras3-jax"
    assert verdict["verdict"] == "keras3-jax: the only valid backend"
    images = seen["images"]
    assert len(images) == 3
    assert all(img["width"] > 0 and img["height"] > 0 and img["shown"] > 0 for img in images), images
    assert {img["alt"] for img in images} == {"mnist_mlp: seconds per epoch by backend",
                                              "mnist_mlp: accuracy by epoch and backend",
                                              "mnist_mlp: CPU use of the cell's processes over time"}

    tables = seen["tables"]
    summary = dict(zip(tables["summary"]["headers"], tables["summary"]["rows"][0]))
    assert len(tables["summary"]["rows"]) == 1  # two repeats, one row
    assert summary["environment"] == "keras3-jax" and summary["repeats"] == "2/2 ok"
    assert "(n=2 repeats)" in summary["steady s/epoch [CI]"] and "] 50%" in summary["steady s/epoch [CI]"]
    assert summary["time to target accuracy"].startswith(">= 0.5")
    assert "TF 1.3 2.77" in summary["K80 2017, this workload"]
    cells = tables["cells"]["rows"]
    assert [row[0] for row in cells] == [f"keras3-jax__mnist_mlp__smoke__r{i}" for i in (0, 1)]
    assert all(row[1] == "ok" and row[3] == "669,706" for row in cells)
    article = {row[1]: row[2] for row in tables["article"]["rows"]}
    assert article == {"TF 1.3": "2.77", "CNTK 2.1": "2.76", "MXNet (Keras 1.2.2)": "1.49", "Theano 0.9": "2.5-2.7"}
    env = dict(zip(tables["environments"]["headers"], tables["environments"]["rows"][0]))
    assert env["backend"] == "jax" and env["framework version"] == "0.10.2" and env["keras"] == "3.15.1"
    machine = dict(zip(tables["machines"]["headers"], tables["machines"]["rows"][0]))
    assert machine["logical cores"] and machine["CPU"] != "-"
    data = dict(zip(tables["data"]["headers"], tables["data"]["rows"][0]))
    assert data["source"] == "real" and data["sha256"].startswith("mnist.npz 06af5dfe")
    assert shot.stat().st_size > 50_000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_compare_and_report_refuse_what_they_cannot_read(smoke_run: Path, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    # A second run from the same real results, with one cell made 3x slower: reported, not hidden.
    other = tmp_path / "other"
    shutil.copytree(smoke_run / "cells", other / "cells")
    path = other / "cells" / "keras3-jax__mnist_mlp__smoke__r0.json"
    raw = json.loads(path.read_text())
    raw["run_id"] = "other"
    raw["timings"]["epochs_s"] = [s * 3 for s in raw["timings"]["epochs_s"]]
    raw["timings"]["steady_state_s"] *= 3
    path.write_text(json.dumps(raw))
    capsys.readouterr()
    assert main(["compare", str(smoke_run), str(other)]) == 0
    out = capsys.readouterr().out
    assert "keras3-jax" in out and "B/A" in out and "1 compared" in out
    ratio_line = next(line for line in out.splitlines() if "keras3-jax" in line)
    assert "no clear difference" in ratio_line  # two repeats each: the rank test cannot reach p < 0.05

    assert main(["report", str(tmp_path / "missing")]) == 2
    assert "not a run folder" in capsys.readouterr().err
    assert main(["report", str(smoke_run), "--target", "mnist_mlp"]) == 2
    assert "WORKLOAD=ACCURACY" in capsys.readouterr().err


def test_gpu_samples_reach_the_report(smoke_run: Path, tmp_path: Path) -> None:
    """No GPU here: a real cell result re-monitored with the fake NVML (two GPUs) on a real process."""
    run = RunDir(tmp_path, "gpu-run")
    shutil.copytree(smoke_run / "cells", run.cells_dir)
    result = load_cells(run.path).results[0]
    mon = CellMonitor(run.cells_dir / f"{result.cell_id}.monitor.csv", hz=20,
                      nvml_module=fake_pynvml({0: []}, []))
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.6)"])
    mon.watch(proc.pid)
    proc.wait()
    run.write_cell(mon.apply(result))

    assert main(["report", str(run.path)]) == 0
    pngs = sorted(p.name for p in (run.path / "report").glob("*.png"))
    assert "gpu_utilization_mnist_mlp.png" in pngs
    page = (run.path / "report" / "report.html").read_text()
    assert 'alt="mnist_mlp: GPU utilization over time"' in page
    assert "Tesla K80 (12288 MiB, CC 3.7, driver 550.54.15, CUDA 12.4)" in page
    assert re.search(r"gpu0 (4\d|5\d|60)% mean, gpu1 5% mean", page)  # the fake alternates 40 and 60 on gpu0
