"""A stand-in for nvidia-ml-py (module `pynvml`) for tests on machines without a GPU.

No NVML fake exists on PyPI; this one answers the calls orchestrator/monitor.py makes, with two GPUs.
"""

from __future__ import annotations

import types


class FakeNVMLError(Exception):
    pass


class FakeNotSupported(FakeNVMLError):
    pass


def fake_pynvml(gpu_pids: dict[int, list[int]], calls: list[str]) -> types.ModuleType:
    """A stand-in for nvidia-ml-py with two GPUs; GPU 1 does not report power (as some boards do not)."""
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
    nv.nvmlDeviceGetComputeRunningProcesses = lambda h: [types.SimpleNamespace(pid=p) for p in gpu_pids.get(h, [])]
    return nv
