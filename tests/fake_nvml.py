"""A stand-in for nvidia-ml-py (module `pynvml`) for tests on machines without a GPU.

No NVML fake exists on PyPI; this one answers the calls orchestrator/measure/monitor.py makes, with two GPUs.
"""

from __future__ import annotations

import time
import types
from typing import Callable


class FakeNVMLError(Exception):
    pass


class FakeNotSupported(FakeNVMLError):
    pass


def steady_counter(watts: float = 300.0) -> Callable[[], int]:
    """An energy counter in mJ that rises at `watts` in real time (from an arbitrary large start value)."""
    start = time.monotonic()
    return lambda: 7_000_000_000 + int((time.monotonic() - start) * watts * 1000)


def fake_pynvml(gpu_pids: dict[int, list[int]], calls: list[str],
                energy_mj: Callable[[], int] | None = None) -> types.ModuleType:
    """A stand-in for nvidia-ml-py with two GPUs: GPU 0 a K80 (power, no energy counter: pre-Volta), GPU 1 an
    H100 with a total energy counter (`energy_mj`, default 300 W steady) but no power reading."""
    nv = types.ModuleType("pynvml")
    nv.NVMLError = FakeNVMLError
    nv.NVML_TEMPERATURE_GPU = 0
    ticks = {0: 0, 1: 0}

    def util(handle: int) -> types.SimpleNamespace:
        ticks[handle] += 1
        return types.SimpleNamespace(gpu=[40, 60][ticks[handle] % 2] if handle == 0 else 5, memory=10)

    def power(handle: int) -> int:
        if handle == 1:
            raise FakeNotSupported("Not Supported")
        return 150_000  # mW

    nv.nvmlInit = lambda: calls.append("init")
    nv.nvmlShutdown = lambda: calls.append("shutdown")
    nv.nvmlSystemGetDriverVersion = lambda: "550.54.15"
    nv.nvmlSystemGetCudaDriverVersion = lambda: 12040
    nv.nvmlDeviceGetCount = lambda: 2
    nv.nvmlDeviceGetHandleByIndex = lambda i: i
    nv.nvmlDeviceGetName = lambda h: b"Tesla K80" if h == 0 else "NVIDIA H100"
    nv.nvmlDeviceGetUUID = lambda h: f"GPU-fake-{h}"
    nv.nvmlDeviceGetMemoryInfo = lambda h: types.SimpleNamespace(total=12 * 2**30, used=(2 + h) * 2**30)
    nv.nvmlDeviceGetCudaComputeCapability = lambda h: (3, 7) if h == 0 else (9, 0)
    nv.nvmlDeviceGetUtilizationRates = util
    nv.nvmlDeviceGetPowerUsage = power
    nv.nvmlDeviceGetTemperature = lambda h, sensor: 61 + h
    counter = energy_mj or steady_counter()

    def total_energy(handle: int) -> int:
        if handle == 0:
            raise FakeNotSupported("Not Supported")  # nvmlDeviceGetTotalEnergyConsumption: Volta and newer
        return counter()

    nv.nvmlDeviceGetTotalEnergyConsumption = total_energy
    nv.nvmlDeviceGetComputeRunningProcesses = lambda h: [types.SimpleNamespace(pid=p) for p in gpu_pids.get(h, [])]
    return nv
