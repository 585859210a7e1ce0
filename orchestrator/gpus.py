"""The NVIDIA GPUs of this machine as NVML sees them (name, compute capability, memory, driver).

On a machine without a GPU (or without the driver) NVML cannot load: the probe then says "no GPU" with NVML's
reason, once, and everything else carries on with CPU-only choices.
"""

from __future__ import annotations

from dataclasses import dataclass, field


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


def probe_gpus() -> GpuProbe:
    """Ask NVML for the GPUs; never raises (a machine without NVIDIA's driver has no GPU for us)."""
    try:
        import pynvml
    except ImportError as exc:  # nvidia-ml-py is a dependency; say so plainly if it is missing
        return GpuProbe(error=f"nvidia-ml-py not installed ({exc})")
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError as exc:
        return GpuProbe(error=f"NVML: {exc}")
    try:
        gpus = [_gpu(pynvml, i) for i in range(pynvml.nvmlDeviceGetCount())]
        driver = _text(pynvml.nvmlSystemGetDriverVersion())
        cuda = pynvml.nvmlSystemGetCudaDriverVersion()
        return GpuProbe(gpus=gpus, driver=driver, cuda_driver=f"{cuda // 1000}.{cuda % 1000 // 10}")
    except pynvml.NVMLError as exc:
        return GpuProbe(error=f"NVML: {exc}")
    finally:
        pynvml.nvmlShutdown()


def _gpu(pynvml, index: int) -> Gpu:  # noqa: ANN001
    handle = pynvml.nvmlDeviceGetHandleByIndex(index)
    try:
        major, minor = pynvml.nvmlDeviceGetCudaComputeCapability(handle)
        capability: float | None = float(f"{major}.{minor}")
    except pynvml.NVMLError:
        capability = None
    try:
        memory_gb: float | None = round(pynvml.nvmlDeviceGetMemoryInfo(handle).total / 2**30, 1)
    except pynvml.NVMLError:
        memory_gb = None
    return Gpu(index=index, name=_text(pynvml.nvmlDeviceGetName(handle)),
               uuid=_text(pynvml.nvmlDeviceGetUUID(handle)), compute_capability=capability, memory_gb=memory_gb)


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value
