"""The one NVML layer: the NVIDIA GPUs of this machine as NVML (nvidia-ml-py) sees them, for the monitor (what a
cell's GPUs do while it runs), the slots (how many GPUs) and `orchestrate doctor` (name, compute capability,
memory, driver).

On a machine without a GPU (or without the driver) NVML cannot load: a session then says "no GPU" with NVML's
reason, and everything else carries on with CPU-only choices. Tests pass a fake module (tests/fake_nvml.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Callable


@dataclass
class NvmlDevice:
    """One NVML device: what it is (static) and the metrics it refuses to report (learned once)."""

    index: int
    handle: Any
    info: dict[str, Any]
    unsupported: set[str] = field(default_factory=set)
    used_by_cell: bool = False
    other_pids: set[int] = field(default_factory=set)  # processes outside the cell's tree seen on this GPU
    foreign_pids: set[int] = field(default_factory=set)  # pids NVML lists that this PID namespace cannot see


class Nvml:
    """A session with NVML: the selected devices (all when `selection` is None), or the reason there are none."""

    def __init__(self, module: ModuleType | None = None, selection: list[str] | None = None) -> None:
        self.gpus: list[NvmlDevice] = []
        self.reason: str | None = None
        self.error: str | None = None  # NVML itself failed (no library, no driver), as opposed to no device
        self.driver: str | None = None
        self.cuda_driver: str | None = None
        self.nvml: Any = module
        self._initialised = False
        try:
            if self.nvml is None:
                import pynvml

                self.nvml = pynvml
            self.nvml.nvmlInit()
            self._initialised = True
            self.gpus = self._open(selection)
            if not self.gpus:
                self.reason = "NVML sees no GPU assigned to this cell" if selection is not None else "NVML sees no GPU"
        except ImportError as exc:
            self.reason = self.error = f"nvidia-ml-py (pynvml) is not installed ({exc})"
        except Exception as exc:  # pynvml.NVMLError and its subclasses, e.g. NVMLError_LibraryNotFound
            self.error = f"NVML: {exc}"
            self.reason = str(exc) if str(exc).startswith("NVML") else self.error
            self.gpus = []

    @property
    def available(self) -> bool:
        return bool(self.gpus)

    def _open(self, selection: list[str] | None) -> list[NvmlDevice]:
        nv = self.nvml
        self.driver = _text(_try(nv.nvmlSystemGetDriverVersion))
        self.cuda_driver = _cuda_version(_try(nv.nvmlSystemGetCudaDriverVersion))
        gpus = []
        for index in range(nv.nvmlDeviceGetCount()):
            handle = nv.nvmlDeviceGetHandleByIndex(index)
            uuid = _text(_try(nv.nvmlDeviceGetUUID, handle))
            if selection is not None and str(index) not in selection and uuid not in selection:
                continue
            memory = _try(nv.nvmlDeviceGetMemoryInfo, handle)
            capability = _try(nv.nvmlDeviceGetCudaComputeCapability, handle)
            info = {
                "index": index,
                "name": _text(_try(nv.nvmlDeviceGetName, handle)),
                "uuid": uuid,
                "memory_total_mb": round(memory.total / 2**20) if memory is not None else None,
                "compute_capability": f"{capability[0]}.{capability[1]}" if capability else None,
                "driver": self.driver,
                "cuda_driver": self.cuda_driver,
            }
            gpus.append(NvmlDevice(index, handle, info))
        return gpus

    def read(self, gpu: NvmlDevice) -> dict[str, float | None]:
        """One reading of a device; a metric the device does not support is None from then on."""
        nv = self.nvml
        readers: dict[str, Callable[[], float]] = {
            "util_percent": lambda: float(nv.nvmlDeviceGetUtilizationRates(gpu.handle).gpu),
            "memory_used_mb": lambda: nv.nvmlDeviceGetMemoryInfo(gpu.handle).used / 2**20,
            "power_w": lambda: nv.nvmlDeviceGetPowerUsage(gpu.handle) / 1000.0,
            "temperature_c": lambda: float(nv.nvmlDeviceGetTemperature(gpu.handle, nv.NVML_TEMPERATURE_GPU)),
            # Total energy since the driver loaded, in mJ (Volta and newer); kept as an integer, never rounded.
            "energy_mj": lambda: int(nv.nvmlDeviceGetTotalEnergyConsumption(gpu.handle)),
        }
        values: dict[str, float | None] = {}
        for name, reader in readers.items():
            if name in gpu.unsupported:
                values[name] = None
                continue
            try:
                values[name] = reader()
            except Exception:  # NVMLError_NotSupported and friends: stop asking
                gpu.unsupported.add(name)
                values[name] = None
        return values

    def pids_on(self, gpu: NvmlDevice) -> set[int]:
        procs = _try(self.nvml.nvmlDeviceGetComputeRunningProcesses, gpu.handle) or []
        return {int(p.pid) for p in procs}

    def close(self) -> None:
        if self._initialised:
            _try(self.nvml.nvmlShutdown)
            self._initialised = False


def _try(fn: Callable[..., Any], *args: Any) -> Any:
    try:
        return fn(*args)
    except Exception:
        return None


def _text(value: Any) -> str | None:
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    return None if value is None else str(value)


def _cuda_version(value: Any) -> str | None:
    """NVML gives the CUDA driver API version as an integer like 12040."""
    if not isinstance(value, int) or value <= 0:
        return None
    return f"{value // 1000}.{(value % 1000) // 10}"


# ---------------------------------------------------------------- the machine's GPUs, once (slots, doctor, docker)

@dataclass(frozen=True)
class Gpu:
    index: int
    name: str
    uuid: str
    compute_capability: float | None
    memory_gb: float | None


@dataclass(frozen=True)
class GpuProbe:
    gpus: list[Gpu] = field(default_factory=list)
    driver: str | None = None
    cuda_driver: str | None = None
    error: str | None = None

    @property
    def summary(self) -> str:
        if not self.gpus:
            return f"no GPU ({self.error})" if self.error else "no GPU"
        names = ", ".join(f"{g.index}: {g.name} (compute capability {_cc(g.compute_capability)})" for g in self.gpus)
        return f"{len(self.gpus)} GPU(s), driver {self.driver}: {names}"


def _cc(value: float | None) -> str:
    return "unknown" if value is None else f"{value:g}"


def probe_gpus(module: ModuleType | None = None) -> GpuProbe:
    """Ask NVML for the GPUs; never raises (a machine without NVIDIA's driver has no GPU for us)."""
    session = Nvml(module)
    try:
        if session.error:
            return GpuProbe(error=session.error)
        return GpuProbe(gpus=[_gpu(device) for device in session.gpus], driver=session.driver,
                        cuda_driver=session.cuda_driver)
    finally:
        session.close()


def _gpu(device: NvmlDevice) -> Gpu:
    info = device.info
    capability = info["compute_capability"]
    memory_mb = info["memory_total_mb"]
    return Gpu(index=device.index, name=info["name"] or "unknown", uuid=info["uuid"] or "",
               compute_capability=float(capability) if capability else None,
               memory_gb=round(memory_mb / 1024, 1) if memory_mb is not None else None)
