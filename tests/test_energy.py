"""Energy per result (no GPU here): the arithmetic on made-up readings, RAPL from a powercap-like folder, and
the monitor with the fake NVML (an H100-like energy counter, a K80 without one) on a real process."""

from __future__ import annotations

import math
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fake_nvml import fake_pynvml, steady_counter
from orchestrator.measure import energy
from orchestrator.measure.cost import cell_cost
from orchestrator.measure.energy import EnergySeries, GpuFacts
from orchestrator.config.schema import Price
from orchestrator.measure.monitor import CellMonitor
from orchestrator.results.schema import (
    CellResult, EnvironmentInfo, EpochMetrics, HostInfo, Metrics, Threads, Timings, WorkloadInfo,
)


def series(ts: list[float], counter: list[float | None], power: list[float | None]) -> EnergySeries:
    s = EnergySeries(1)
    for t, c, w in zip(ts, counter, power):
        s.add(t, [c], [w])
    return s


def epochs(*spans: tuple[float, float], started: float = 1000.0) -> list[EpochMetrics]:
    return [EpochMetrics(epoch=i + 1, seconds=end - start, time=started + end) for i, (start, end) in enumerate(spans)]


ONE_GPU = [GpuFacts(0, used_by_cell=True, other_pids=[])]


def test_counter_gives_joules_per_epoch_and_per_sample() -> None:
    ts = [i * 0.5 for i in range(13)]  # 0 .. 6 s
    counter = [5e9 + 200_000 * t for t in ts]  # 200 W as a counter in mJ
    s = series(ts, counter, [150.0] * len(ts))  # the sampled power disagrees: the counter must win
    result = energy.cell_energy(s, ONE_GPU, epochs((0.25, 2.25), (2.25, 4.25), (4.25, 5.25)), 1000.0, 1000.0)
    gpu = result["gpu"]
    assert gpu["method"] == "counter" and gpu["estimate"] is False and gpu["valid"] is True
    assert gpu["per_epoch_j"] == [400.0, 400.0, 200.0]  # interpolated between samples at the epochs' ends
    assert gpu["steady_j_per_epoch"] == 300.0  # median of the epochs after the first
    assert gpu["steady_j_per_sample"] == 0.3
    assert gpu["cell_j"] == 1200.0
    assert result["cpu"]["available"] is False and result["cpu"]["reason"]


def test_power_is_integrated_and_marked_an_estimate_without_a_counter() -> None:
    ts = [0.0, 1.0, 2.0, 3.0, 4.0]
    s = series(ts, [None] * 5, [100.0, 100.0, 300.0, 300.0, 100.0])
    gpu = energy.cell_energy(s, ONE_GPU, epochs((0.0, 2.0), (2.0, 4.0)), 1000.0, None)["gpu"]
    assert gpu["method"] == "power_integrated" and gpu["estimate"] is True
    assert gpu["per_epoch_j"] == [300.0, 500.0]  # trapezoids: 100 + 200; 300 + 200
    assert gpu["steady_j_per_sample"] is None  # no sample count given
    # Ends between samples are interpolated: 0.5..1.5 s at 100 -> 200 W.
    assert energy.power_joules(ts, [100.0, 100.0, 300.0, 300.0, 100.0], (0.5, 1.5)) == pytest.approx(125.0)


def test_a_wrapping_counter_is_unwrapped() -> None:
    top = energy.COUNTER_WRAP_MJ
    ts = [0.0, 1.0, 2.0, 3.0]
    counter = [top - 150_000, top - 50_000, 50_000, 150_000]  # 100 J a second across the wrap
    gpu = energy.cell_energy(series(ts, counter, [100.0] * 4), ONE_GPU, epochs((0.0, 3.0)), 1000.0, None)["gpu"]
    assert gpu["per_epoch_j"] == [300.0] and gpu["method"] == "counter"
    assert "GPU 0: counter wrapped" in gpu["notes"]
    # A counter that goes back from low in its range was reset (driver reload): continue from its last value.
    mended, notes = energy.unwrap([1000.0, 2000.0, 10.0, 1010.0], top)
    assert mended == [0.0, 1000.0, 1010.0, 2010.0]
    assert notes == ["counter went back (reset): continued from its last value"]


def test_a_stalled_counter_falls_back_to_integrated_power() -> None:
    ts = [i * 0.5 for i in range(13)]
    # Moves for the first epoch, then stands still for 4 s while the board draws 250 W.
    counter = [1e9 + 250_000 * min(t, 2.0) for t in ts]
    s = series(ts, counter, [250.0] * len(ts))
    gpu = energy.cell_energy(s, ONE_GPU, epochs((0.0, 2.0), (2.0, 6.0)), 1000.0, None)["gpu"]
    assert gpu["per_epoch_j"] == [500.0, 1000.0]  # the second from power: 250 W x 4 s
    assert gpu["method"] == "counter, power_integrated where the counter stalled" and gpu["estimate"] is True
    assert any("stalled" in note for note in gpu["notes"])
    # An idle board whose counter does not move is not stalled.
    assert not energy.stalled(ts, [5.0] * 13, [0.2] * 13, (0.0, 6.0))


def test_another_process_on_the_gpu_makes_the_energy_invalid() -> None:
    ts = [0.0, 1.0, 2.0]
    facts = [GpuFacts(3, used_by_cell=True, other_pids=[4242])]
    gpu = energy.cell_energy(series(ts, [0.0, 1e5, 2e5], [100.0] * 3), facts, epochs((0.0, 2.0)), 1000.0, None)["gpu"]
    assert gpu["valid"] is False and "pid 4242" in gpu["invalid_reason"] and gpu["gpus"] == [3]


def test_epochs_without_times_or_outside_the_samples_give_no_joules() -> None:
    ts = [0.0, 1.0, 2.0]
    s = series(ts, [0.0, 1e5, 2e5], [100.0] * 3)
    old = [EpochMetrics(epoch=1, seconds=1.0), EpochMetrics(epoch=2, seconds=1.0)]  # results from before `time`
    gpu = energy.cell_energy(s, ONE_GPU, old, 1000.0, 100.0)["gpu"]
    assert gpu["per_epoch_j"] == [None, None] and gpu["steady_j_per_epoch"] is None
    late = energy.cell_energy(s, ONE_GPU, epochs((1.0, 5.0)), 1000.0, None)["gpu"]
    assert late["per_epoch_j"] == [None]


def fake_rapl(root: Path, package: int, energy_uj: int, max_uj: int = 262_143_328_850) -> Path:
    zone = root / f"intel-rapl:{package}"
    zone.mkdir(parents=True, exist_ok=True)
    (zone / "name").write_text(f"package-{package}\n")
    (zone / "energy_uj").write_text(f"{energy_uj}\n")
    (zone / "max_energy_range_uj").write_text(f"{max_uj}\n")
    (root / f"intel-rapl:{package}:0").mkdir(exist_ok=True)  # a sub-zone (core): not a package, not counted
    return zone / "energy_uj"


def test_rapl_packages_wrap_and_missing_rapl_is_recorded(tmp_path: Path) -> None:
    root = tmp_path / "powercap"
    counter = fake_rapl(root, 0, 999_000_000, max_uj=999_999_999)
    s = EnergySeries.with_rapl(0, root)
    assert [z.name for z in s.zones] == ["package-0"] and s.rapl_reason is None
    for t, uj in ((0.0, 999_000_000), (1.0, 999_900_000), (2.0, 800_000)):  # 0.9 J, then 0.9 J across the wrap
        counter.write_text(f"{uj}\n")
        s.add(t, [], [])
    cpu = energy.cell_energy(s, [], epochs((0.0, 1.0), (1.0, 2.0)), 1000.0, 10.0)["cpu"]
    assert cpu["available"] is True and cpu["zones"] == ["package-0"]
    assert cpu["per_epoch_j"] == [0.9, 0.9] and cpu["steady_j_per_sample"] == 0.09
    assert cpu["notes"] == ["package-0: counter wrapped"]

    zones, reason = energy.rapl_zones(tmp_path / "absent")
    assert zones == [] and "is not present" in reason
    no_gpu = energy.cell_energy(EnergySeries.with_rapl(0, tmp_path / "absent"), [], [], 0.0, None, "NVML Shared "
                                "Library Not Found")
    assert no_gpu["gpu"] == {"available": False, "reason": "no GPU: NVML Shared Library Not Found"}
    assert no_gpu["cpu"]["available"] is False and "is not present" in no_gpu["cpu"]["reason"]


def test_unreadable_rapl_says_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_rapl(tmp_path, 0, 5)
    real_read = Path.read_text

    def refuse(self: Path, *args: object, **kwargs: object) -> str:
        if self.name == "energy_uj":
            raise PermissionError(13, "Permission denied")
        return real_read(self, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", refuse)
    zones, reason = energy.rapl_zones(tmp_path)
    assert zones == [] and "not readable (root only since Linux 5.10)" in reason


def result_with(per_epoch: list[EpochMetrics], steady: float | None, process_s: float, rate: float | None
                ) -> CellResult:
    return CellResult(
        run_id="r", cell_id="e__w__p__r0", status="ok",
        environment=EnvironmentInfo(name="e", backend="jax", keras_version="3", python_version="3.11", runtime="local"),
        workload=WorkloadInfo(name="w", profile="p", epochs=len(per_epoch), batch_size=128),
        timings=Timings(process_s=process_s, steady_state_s=steady, samples_per_s=rate,
                        epochs_s=[e.seconds for e in per_epoch]),
        metrics=Metrics(per_epoch=per_epoch), threads=Threads(requested=1),
    )


def timed_epochs(mon: CellMonitor, proc: subprocess.Popen[bytes], seconds: float
                 ) -> tuple[list[tuple[float, float]], list[EpochMetrics]]:
    """Three "epochs" of `seconds` each, timed on the wall clock as the harness does, while `mon` watches `proc`."""
    mon.watch(proc.pid)
    marks = []
    for _ in range(3):
        start = time.time()
        time.sleep(seconds)
        marks.append((start, time.time()))
    proc.wait()
    return marks, [EpochMetrics(epoch=i + 1, seconds=end - start, time=end) for i, (start, end) in enumerate(marks)]


def test_monitor_reads_the_counter_and_joins_the_epochs(tmp_path: Path) -> None:
    """The fake H100 (GPU 1) counts 300 W in real time; epochs timed on the wall clock as the harness does."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3)"])
    mon = CellMonitor(tmp_path / "c.monitor.csv", hz=20, nvml_module=fake_pynvml({1: [proc.pid], 0: [1]}, [],
                                                                                  steady_counter(300.0)))
    marks, per_epoch = timed_epochs(mon, proc, 0.7)
    result = mon.apply(result_with(per_epoch, 0.7, 3.0, 1000.0 / 0.7))

    gpu = result.energy["gpu"]
    assert gpu["gpus"] == [1] and gpu["method"] == "counter"  # the cell's GPU, read through its counter
    for joules in gpu["per_epoch_j"]:
        assert joules == pytest.approx(300.0 * 0.7, rel=0.12)
    assert gpu["steady_j_per_sample"] == pytest.approx(0.21, rel=0.12)  # 1000 samples an epoch
    # pid 1 (init) on GPU 0 is another process, but GPU 0 is not the cell's: the cell's energy stays valid.
    assert gpu["valid"] is True and result.monitor["gpus"][0]["other_pids"] == [1]
    assert result.monitor["started_unix"] <= marks[0][0] + 0.001
    cpu = result.energy["cpu"]  # this machine's RAPL: read where readable, else the reason
    assert (cpu["available"] and len(cpu["per_epoch_j"]) == 3) or "RAPL" in cpu["reason"] or cpu["reason"]
    counters = [line.split(",")[-1] for line in (tmp_path / "c.monitor.csv").read_text().splitlines()[1:]]
    assert all(c.isdigit() and int(c) >= 7_000_000_000 for c in counters)  # the series keeps whole mJ


def test_monitor_marks_energy_invalid_when_another_process_shares_the_gpu(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(1.2)"])
    mon = CellMonitor(None, hz=20, gpus=["1"], nvml_module=fake_pynvml({1: [proc.pid, 1]}, []))
    start = time.time()
    mon.watch(proc.pid)
    proc.wait()
    end = time.time()
    result = mon.apply(result_with([EpochMetrics(epoch=1, seconds=end - start - 0.2, time=end - 0.1)], None, 1.2,
                                   None))
    assert result.energy["gpu"]["valid"] is False and "pid 1" in result.energy["gpu"]["invalid_reason"]


def test_cost_per_epoch_run_and_samples() -> None:
    price = Price(per_hour=3.6, machine="Standard_NC24ads_A100_v4", source="test")
    cost = cell_cost(result_with([], 2.0, 100.0, 500.0), price)
    assert cost["per_epoch"] == pytest.approx(0.002) and cost["per_run"] == pytest.approx(0.1)
    assert cost["per_1k_samples"] == pytest.approx(0.002) and cost["machine"] == "Standard_NC24ads_A100_v4"
    assert cell_cost(result_with([], None, 0.0, None), price)["per_epoch"] is None
    assert not math.isnan(cost["per_hour"])


def test_energy_and_cost_reach_the_report_and_the_comparison() -> None:
    from rich.console import Console

    from orchestrator.analysis.energy import energy_rows
    from orchestrator.report.energy import comparison_table, html_section

    def measured(watts: float, run_id: str, other_pids: list[int]) -> CellResult:
        ts = [i * 0.5 for i in range(13)]
        s = series(ts, [1e9 + watts * 1000 * t for t in ts], [watts] * len(ts))
        r = result_with(epochs((0.0, 2.0), (2.0, 4.0), (4.0, 6.0)), 2.0, 10.0, 500.0)
        facts = [GpuFacts(0, used_by_cell=True, other_pids=other_pids)]
        return r.model_copy(update={"run_id": run_id, "energy": energy.cell_energy(s, facts, r.metrics.per_epoch,
                                                                                     1000.0, 1000.0),
                                    "cost": cell_cost(r, Price(per_hour=3.6, currency="USD"))})

    a, b = measured(200.0, "a", []), measured(300.0, "b", [77])
    (row,) = energy_rows([a])
    assert row.gpu_j_per_epoch == 400.0 and row.gpu_j_per_sample == 0.4 and row.gpu_method == "counter"
    assert row.cost_per_epoch == pytest.approx(0.002) and row.cost_per_run == pytest.approx(0.01)
    page = html_section([a])
    assert 'id="energy-table"' in page and "<td>400</td>" in page and "0.002 USD" in page
    assert energy_rows([b])[0].gpu_method.startswith("INVALID: other process(es)")
    console = Console(width=250, record=True)
    console.print(comparison_table([a], [b], "a", "b"))
    text = console.export_text()
    assert "1.500" in text and "INVALID" in text  # 600 J / 400 J; B's energy is flagged



def test_a_run_with_nothing_measured_gets_one_line_not_a_table_of_dashes() -> None:
    from orchestrator.analysis.energy import energy_rows
    from orchestrator.report.energy import energy_table, unmeasured_note

    r = result_with(epochs((0.0, 2.0), (2.0, 4.0)), 2.0, 10.0, 500.0)
    nothing = r.model_copy(update={"energy": {"gpu": {"available": False, "reason": "no GPU: NVML Shared Library "
                                                                                      "Not Found"},
                                              "cpu": {"available": False, "reason": "no RAPL here"}}})
    assert energy_rows([nothing]) == [] and energy_table([nothing]) is None
    note = unmeasured_note([nothing])
    assert note is not None and "no GPU: NVML Shared Library Not Found" in note and "no RAPL here" in note
    priced = nothing.model_copy(update={"cost": cell_cost(r, Price(per_hour=3.6, currency="USD"))})
    assert unmeasured_note([priced]) is None and energy_rows([priced])[0].cost_per_epoch is not None

def test_pids_from_another_pid_namespace() -> None:
    """NVML may list host pids a container cannot see: another process if the cell's own was seen, else unknown."""
    ts = [0.0, 1.0, 2.0]
    s = series(ts, [0.0, 1e5, 2e5], [100.0] * 3)
    seen = energy.cell_energy(s, [GpuFacts(0, True, [], [999_999])], epochs((0.0, 2.0)), 1000.0, None)["gpu"]
    assert seen["valid"] is False and "999999" in seen["invalid_reason"]
    unseen = energy.cell_energy(s, [GpuFacts(0, False, [], [999_999])], epochs((0.0, 2.0)), 1000.0, None)["gpu"]
    assert unseen["valid"] is None and unseen["invalid_reason"].startswith("unknown: NVML listed pid(s) 999999")


def test_gpu_check_figures_and_checks_in_gpu_mode(tmp_path: Path, repo: Path) -> None:
    """scripts/gpu_results.py on a GPU-like result (fake NVML, a real process) and on one that stayed on the CPU."""
    from orchestrator.rundir.layout import RunDir

    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(2.2)"])
    mon = CellMonitor(None, hz=20, gpus=["1"], nvml_module=fake_pynvml({1: [proc.pid]}, [], steady_counter(400.0)))
    _, per_epoch = timed_epochs(mon, proc, 0.6)
    framework = HostInfo(framework_device={"backend": "torch", "kind": "gpu", "weight_device": "cuda:0"})
    on_gpu = mon.apply(result_with(per_epoch, 0.6, 2.2, 1000.0 / 0.6).model_copy(update={"host": framework}))
    run = RunDir(tmp_path, "gpu")
    run.write_cell(on_gpu)

    def check() -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, str(repo / "scripts" / "gpu_results.py"), str(run.path), "gpu"],
                              capture_output=True, text=True, env={"PYTHONPATH": str(repo), "PATH": "/usr/bin"})

    ok = check()
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "| gpu:1 | NVIDIA H100 |" in ok.stdout and "| counter |" in ok.stdout
    assert "NVIDIA H100 (12288 MiB" in ok.stdout
    run.write_cell(result_with(per_epoch, 0.6, 2.2, None).model_copy(update={"cell_id": "cpu__w__p__r0"}))
    bad = check()
    assert bad.returncode == 1 and "CHECK FAILED: cpu__w__p__r0: ran on cpu; framework: not recorded, not on a " \
                                   "GPU" in bad.stdout
