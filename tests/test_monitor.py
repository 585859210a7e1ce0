"""The monitor against real processes: a fake `pynvml` for GPUs (no GPU here), and the real nvidia-ml-py's
"library not found" path, which is what a GPU-less machine gives."""

from __future__ import annotations

import csv
import ctypes.util
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from fake_nvml import fake_pynvml
from orchestrator.measure import monitor as monitor_mod
from orchestrator.measure.monitor import CellMonitor, Nvml, assigned_gpus
from orchestrator.results.schema import CellResult, EnvironmentInfo, HostInfo, Threads, WorkloadInfo

# A parent that holds ~120 MiB and keeps one core busy, with a child that does the same, for ~1.5 s.
BUSY_TREE = """
import subprocess, sys, time
hold = bytearray(120 * 2**20)
child = subprocess.Popen([sys.executable, "-c",
    "import time\\nhold = bytearray(60 * 2**20)\\nend = time.time() + 1.2\\nwhile time.time() < end: pass"])
end = time.time() + 1.5
while time.time() < end:
    pass
child.wait()
"""


def blank_result() -> CellResult:
    return CellResult(run_id="r", cell_id="c", status="ok",
                      environment=EnvironmentInfo(name="e", backend="jax", keras_version="3", python_version="3.11",
                                                  runtime="local"),
                      workload=WorkloadInfo(name="mnist_mlp", profile="smoke", epochs=2, batch_size=128),
                      threads=Threads(requested=1), host=HostInfo(hostname="h", device="cpu"))


def run_busy_tree() -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", BUSY_TREE])


def children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def cpu_seconds_in_series(path: Path) -> float:
    """The integral of the sampled CPU % over time: the CPU seconds the monitor saw."""
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    total, last_t = 0.0, None
    for row in rows:
        t = float(row["t_s"])
        if row["cpu_percent"] and last_t is not None:
            total += float(row["cpu_percent"]) / 100 * (t - last_t)
        last_t = t
    return total


def test_fake_gpus_and_a_real_process_tree(tmp_path: Path) -> None:
    calls: list[str] = []
    gpu_pids: dict[int, list[int]] = {}
    series = tmp_path / "cell.monitor.csv"
    mon = CellMonitor(series, hz=20, gpus=None, nvml_module=fake_pynvml(gpu_pids, calls))
    cpu_before = children_cpu_s()
    proc = run_busy_tree()
    gpu_pids[0] = [proc.pid]  # the cell's process shows up on GPU 0 only
    mon.watch(proc.pid)
    proc.wait()
    tree_cpu_s = children_cpu_s() - cpu_before  # what the kernel says the tree used (the parent waited its child)
    summary = mon.stop()
    framework = {"backend": "jax", "kind": "gpu", "default_device": "gpu"}  # the harness's device record
    result = mon.apply(blank_result().model_copy(update={"host": HostInfo(hostname="h", framework_device=framework)}))

    assert calls == ["init", "shutdown"]
    assert 0 < summary["self_cpu_s"] < 0.5 * summary["duration_s"]  # the sampler's own cost is recorded
    assert 20 <= summary["samples"] <= 60, summary  # ~1.6 s at 20 Hz, with slack for a busy machine
    assert summary["gpu_available"] and summary["gpu_note"] is None
    cpu = summary["cpu"]
    assert cpu["peak_rss_mb"] >= 120 + 50, cpu  # parent and child summed
    assert cpu["max_processes"] == 2
    # The monitor's CPU % integrates to the tree's CPU time (a shared machine gives each process less than a
    # core, so compare with what the kernel counted, not with 100%); a child's first moments go unseen.
    seen = cpu_seconds_in_series(series)
    assert 0.5 * tree_cpu_s <= seen <= 1.15 * tree_cpu_s, (seen, tree_cpu_s)
    assert 0 < cpu["mean_percent"] <= 100 * 2 * 1.2
    gpu0, gpu1 = summary["gpus"]
    assert gpu0["name"] == "Tesla K80" and gpu0["used_by_cell"] is True
    assert 40 <= gpu0["util_mean_percent"] <= 60 and gpu0["util_max_percent"] == 60
    assert gpu0["power_mean_w"] == 150.0 and gpu0["temperature_max_c"] == 61
    assert gpu0["memory_used_max_mb"] == 2048
    assert gpu1["used_by_cell"] is False and gpu1["power_mean_w"] is None and gpu1["unsupported"] == ["power_w"]
    assert gpu0["unsupported"] == ["energy_mj"]  # a K80 has no energy counter (Volta and newer)

    with open(series, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == summary["samples"]
    assert {"t_s", "cpu_percent", "rss_mb", "gpu0_util_percent", "gpu1_power_w"} <= set(rows[0])
    assert rows[-1]["gpu1_power_w"] == "" and float(rows[-1]["gpu0_power_w"]) == 150.0
    times = [float(r["t_s"]) for r in rows]
    assert times == sorted(times)

    assert result.monitor == summary
    assert result.host.device == "gpu:0"
    assert [g["name"] for g in result.host.gpus] == ["Tesla K80", "NVIDIA H100"]
    assert result.host.gpus[0]["driver"] == "550.54.15" and result.host.gpus[0]["cuda_driver"] == "12.4"
    assert result.host.gpus[0]["compute_capability"] == "3.7"


def test_only_the_gpus_assigned_to_the_cell_are_sampled(tmp_path: Path) -> None:
    assert assigned_gpus({}) is None
    assert assigned_gpus({"CUDA_VISIBLE_DEVICES": "1"}) == ["1"]
    assert assigned_gpus({"CUDA_VISIBLE_DEVICES": ""}) == []
    assert assigned_gpus({"NVIDIA_VISIBLE_DEVICES": "GPU-fake-0"}) == ["GPU-fake-0"]
    assert assigned_gpus({"NVIDIA_VISIBLE_DEVICES": "all"}) is None

    nvml = Nvml(fake_pynvml({}, []), selection=["1"])
    assert [g.index for g in nvml.gpus] == [1]
    by_uuid = Nvml(fake_pynvml({}, []), selection=["GPU-fake-0"])
    assert [g.info["name"] for g in by_uuid.gpus] == ["Tesla K80"]
    none = Nvml(fake_pynvml({}, []), selection=[])
    assert not none.available and none.reason == "NVML sees no GPU assigned to this cell"

    mon = CellMonitor.for_cell(tmp_path, "cell", 10, {"CUDA_VISIBLE_DEVICES": "1"})
    assert mon is not None and mon.series_path == tmp_path / "cell.monitor.csv"
    mon.stop()
    assert CellMonitor.for_cell(tmp_path, "cell", 0, {}) is None  # --monitor-hz 0: off


def test_real_nvml_library_not_found_says_no_gpu_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pynvml  # the real nvidia-ml-py

    if ctypes.util.find_library("nvidia-ml"):  # a GPU machine: hide its driver library from pynvml
        def no_library(*args: object, **kwargs: object) -> None:
            raise OSError("hidden by the test")

        monkeypatch.setattr(pynvml, "CDLL", no_library)
        monkeypatch.setattr(pynvml, "nvmlLib", None)
    with pytest.raises(pynvml.NVMLError_LibraryNotFound):
        pynvml.nvmlInit()

    monkeypatch.setattr(monitor_mod, "_no_gpu_said", False)
    said: list[str] = []
    summaries = []
    for i in range(2):
        mon = CellMonitor(tmp_path / f"c{i}.monitor.csv", hz=10, log=said.append)
        proc = run_busy_tree()
        mon.watch(proc.pid)
        proc.wait()
        summaries.append(mon.stop())
        assert mon.apply(blank_result()).host.gpus == []
    assert said == ["no GPU (NVML Shared Library Not Found): recording CPU and memory only"]
    for summary in summaries:
        assert summary["gpu_available"] is False and summary["gpus"] == []
        assert summary["gpu_note"] == "no GPU: NVML Shared Library Not Found"
        assert summary["cpu"]["peak_rss_mb"] >= 120 and summary["cpu"]["mean_percent"] > 0
    header = (tmp_path / "c0.monitor.csv").read_text().splitlines()[0]
    assert header == "t_s,cpu_percent,rss_mb,processes"


def test_a_process_that_is_gone_or_never_given_still_gives_a_summary(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    mon = CellMonitor(tmp_path / "gone.monitor.csv", hz=50, nvml_module=fake_pynvml({}, []))
    mon.watch(proc.pid)  # already exited and reaped
    summary = mon.stop()
    assert summary["cpu"]["peak_rss_mb"] is None
    assert summary["gpus"][0]["util_max_percent"] in (40, 60, None)
    assert mon.stop() is summary  # idempotent
    with pytest.raises(ValueError, match="positive"):
        CellMonitor(None, hz=0)


def test_run_refuses_a_bad_monitor_rate(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from orchestrator.cli import main

    assert main(["run", str(repo / "matrix.yaml"), "--monitor-hz", "-1"]) == 2
    assert "--monitor-hz -1" in capsys.readouterr().err


def test_a_sampling_failure_ends_sampling_but_not_the_cell(tmp_path: Path) -> None:
    nv = fake_pynvml({}, [])
    mon = CellMonitor(tmp_path / "broken.monitor.csv", hz=20, nvml_module=nv)
    mon._record = lambda row: (_ for _ in ()).throw(OSError(28, "No space left on device"))  # type: ignore
    mon.watch(None)
    summary = mon.stop()
    assert summary["error"] == "sampling stopped early: OSError: [Errno 28] No space left on device"


def test_the_machine_probe_reads_gpus_through_the_monitors_nvml_layer() -> None:
    """One NVML layer (orchestrator/measure/gpus.py): the probe behind slots and doctor sees what the monitor sees."""
    from orchestrator.measure.gpus import probe_gpus

    calls: list[str] = []
    probe = probe_gpus(fake_pynvml({}, calls))
    assert [(g.index, g.name, g.compute_capability, g.memory_gb) for g in probe.gpus] == [
        (0, "Tesla K80", 3.7, 12.0), (1, "NVIDIA H100", 9.0, 12.0)]
    assert probe.driver == "550.54.15" and probe.cuda_driver == "12.4"
    assert calls == ["init", "shutdown"]  # the session is closed again
    assert "2 GPU(s), driver 550.54.15: 0: Tesla K80 (compute capability 3.7)" in probe.summary
