"""Where a GPU cell really ran, and the GPU check's settings, with the fake NVML where the GPU is absent.

- "ran on the GPU" needs the framework's own word (workloads/harness.py framework_device), not NVML alone;
- slots number GPUs as NVML does (CUDA_DEVICE_ORDER=PCI_BUS_ID); an empty CUDA_VISIBLE_DEVICES means no GPU;
- the GPU check's keras3-jax does not preallocate 75% of the card (its env: reaches the cell);
- 0 J per steady epoch is "below the counter's resolution", not a failed check.
"""

from __future__ import annotations

import subprocess
import sys
import types
from pathlib import Path

import yaml

from fake_nvml import fake_pynvml, steady_counter
from orchestrator.environments.layout import EnvPaths, cell_process_env
from orchestrator.config.load import load_matrix
from orchestrator.measure.monitor import CellMonitor
from orchestrator.results.schema import (
    CellResult, EnvironmentInfo, EpochMetrics, HostInfo, Metrics, Threads, Timings, WorkloadInfo,
)
from orchestrator.rundir.layout import RunDir
from orchestrator.execution.slots import gpu_count, plan_slots

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "workloads"))
import harness  # noqa: E402  (the 3.6-compatible harness, as the cells run it)


def a_result(framework: dict | None, per_epoch: list[EpochMetrics] | None = None) -> CellResult:
    per_epoch = per_epoch or []
    return CellResult(
        run_id="gpu", cell_id="keras3-torch__mnist_mlp__gpu-check__r0", status="ok",
        environment=EnvironmentInfo(name="keras3-torch", backend="torch", keras_version="3", python_version="3.12",
                                    runtime="local"),
        workload=WorkloadInfo(name="mnist_mlp", profile="gpu-check", epochs=len(per_epoch), batch_size=128),
        timings=Timings(process_s=3.0, steady_state_s=0.6, samples_per_s=1000.0,
                        epochs_s=[e.seconds for e in per_epoch]),
        metrics=Metrics(per_epoch=per_epoch), threads=Threads(requested=1),
        host=HostInfo(framework_device=framework),
    )


def gpu_results(run: RunDir, mode: str = "gpu") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(REPO / "scripts" / "gpu_results.py"), str(run.path), mode],
                          capture_output=True, text=True, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin"})


def monitored(framework: dict | None, watts: float = 400.0, tmp: Path | None = None) -> CellResult:
    """A real process that NVML (fake) lists on GPU 1 for three 0.5 s epochs, the framework saying `framework`."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(1.8)"])
    mon = CellMonitor(None, hz=20, gpus=["1"], nvml_module=fake_pynvml({1: [proc.pid]}, [], steady_counter(watts)))
    import time

    mon.watch(proc.pid)
    marks = []
    for _ in range(3):
        start = time.time()
        time.sleep(0.5)
        marks.append((start, time.time()))
    proc.wait()
    per_epoch = [EpochMetrics(epoch=i + 1, seconds=end - start, time=end) for i, (start, end) in enumerate(marks)]
    return mon.apply(a_result(framework, per_epoch))


def test_nvml_alone_does_not_make_a_cpu_build_a_gpu_cell(tmp_path: Path) -> None:
    """NVML lists the cell's process on GPU 1, but torch says cpu: the cell ran on the CPU and the check fails."""
    cpu_build = {"backend": "torch", "kind": "cpu", "cuda_available": False, "weight_device": "cpu"}
    on_cpu = monitored(cpu_build)
    assert on_cpu.monitor["gpus"][0]["used_by_cell"] is True and on_cpu.host.device == "cpu"
    on_gpu = monitored({"backend": "torch", "kind": "gpu", "cuda_available": True, "weight_device": "cuda:0"})
    assert on_gpu.host.device == "gpu:1"
    run = RunDir(tmp_path, "gpu")
    run.write_cell(on_gpu)
    assert gpu_results(run).returncode == 0
    run.write_cell(on_cpu.model_copy(update={"cell_id": "keras3-jax__mnist_mlp__gpu-check__r0"}))
    bad = gpu_results(run)
    assert bad.returncode == 1
    assert "keras3-jax__mnist_mlp__gpu-check__r0: ran on cpu; framework: cpu (cpu), not on a GPU" in bad.stdout


def test_framework_device_from_the_models_weight_and_what_the_backend_sees() -> None:
    """The harness's record: the first weight's device decides; a backend that cannot be asked says why."""
    def model(device: object) -> types.SimpleNamespace:
        return types.SimpleNamespace(weights=[types.SimpleNamespace(value=types.SimpleNamespace(device=device))])

    assert harness.framework_device("none", model("cuda:0"))["kind"] == "gpu"
    assert harness.framework_device("none", model("/job:localhost/replica:0/task:0/device:CPU:0"))["kind"] == "cpu"
    jax_array = types.SimpleNamespace(devices=lambda: {"cuda:0"})
    assert harness.framework_device("none", types.SimpleNamespace(weights=[jax_array]))["weight_device"] == "cuda:0"
    tf1_variable = types.SimpleNamespace(value=lambda: None, device="/job:localhost/replica:0/task:0/device:GPU:0")
    assert harness.framework_device("none", types.SimpleNamespace(weights=[tf1_variable]))["kind"] == "gpu"
    unknown = harness.framework_device("cntk", None)  # no cntk here: recorded, not raised
    assert unknown["kind"] == "unknown" and "ModuleNotFoundError" in unknown["error"]


def test_slots_number_cuda_devices_as_nvml_does() -> None:
    """GPU slot i is CUDA index i in PCI bus order: the board NVML monitors as index i."""
    slot = plan_slots(None, gpus=2, cpus=[0, 1])[1]
    assert slot.env() == {"CUDA_VISIBLE_DEVICES": "1", "CUDA_DEVICE_ORDER": "PCI_BUS_ID"}


def test_an_empty_cuda_visible_devices_means_no_gpu_slots() -> None:
    """The dry run on a GPU machine: CUDA_VISIBLE_DEVICES="" keeps every cell on the CPU (NVML sees two GPUs)."""
    assert gpu_count({}, fake_pynvml({}, []))[0] == 2
    count, note = gpu_count({"CUDA_VISIBLE_DEVICES": ""}, fake_pynvml({}, []))
    assert count == 0 and "CUDA_VISIBLE_DEVICES" in note
    assert all(s.gpu is None and "CUDA_VISIBLE_DEVICES" not in s.env() for s in plan_slots(None, count, [0, 1]))


def test_the_gpu_checks_jax_does_not_preallocate(tmp_path: Path) -> None:
    """The generated keras3-jax entry carries XLA_PYTHON_CLIENT_PREALLOCATE=false and it reaches the cell, while the
    caller's own XLA_* variables are still dropped."""
    target = tmp_path / "matrix.yaml"
    subprocess.run([sys.executable, str(REPO / "scripts" / "gpu_matrix.py"), str(REPO / "matrix.yaml"), str(target),
                    sys.executable, sys.executable], check=True)
    raw = yaml.safe_load(target.read_text())
    assert raw["environments"]["keras3-jax"]["env"]["XLA_PYTHON_CLIENT_PREALLOCATE"] == "false"
    loaded = load_matrix(target)
    env = cell_process_env(EnvPaths(tmp_path / "e"), loaded.matrix.environments["keras3-jax"], 4, 0,
                           base={"XLA_PYTHON_CLIENT_MEM_FRACTION": "0.99", "PATH": "/usr/bin"})
    assert env["XLA_PYTHON_CLIENT_PREALLOCATE"] == "false" and "XLA_PYTHON_CLIENT_MEM_FRACTION" not in env


def test_zero_joules_per_epoch_is_below_the_counters_resolution(tmp_path: Path) -> None:
    """A counter that does not step during sub-second epochs: reported, with a warning, not a failed check."""
    on_gpu = monitored({"backend": "jax", "kind": "gpu", "default_device": "gpu"})
    energy = dict(on_gpu.energy)
    energy["gpu"] = dict(energy["gpu"], steady_j_per_epoch=0.0, steady_j_per_sample=0.0, method="counter")
    run = RunDir(tmp_path, "gpu")
    run.write_cell(on_gpu.model_copy(update={"energy": energy}))
    out = gpu_results(run)
    assert out.returncode == 0, out.stdout
    assert "< counter resolution" in out.stdout and "below the energy counter's resolution" in out.stdout
    energy["gpu"] = dict(energy["gpu"], steady_j_per_epoch=None)
    run.write_cell(on_gpu.model_copy(update={"energy": energy}))
    assert gpu_results(run).returncode == 1
