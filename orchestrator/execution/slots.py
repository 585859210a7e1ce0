"""Device slots: where a cell may run. One cell per GPU at a time; on a CPU-only machine one cell at a time
unless the matrix's `slots:` asks for more, each slot then owning an equal share of the cores.

A slot is what a runtime applies to the cell's process: the GPU it may see (CUDA_VISIBLE_DEVICES) and the
cores it is pinned to. The thread count of a cell defaults to the number of cores of its slot.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from types import ModuleType
from typing import Mapping


@dataclass(frozen=True)
class Slot:
    """One place a cell runs: a GPU index (or none) and the CPU cores the cell's process is pinned to."""

    index: int
    cpus: tuple[int, ...] = ()
    gpu: int | None = None
    label: str = ""
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        if self.label:
            return self.label
        return f"gpu{self.gpu}" if self.gpu is not None else f"cpu-slot{self.index}"

    def env(self) -> dict[str, str]:
        """Variables a cell's process gets in this slot: the GPU it may use, numbered as NVML numbers it.

        CUDA's default order is fastest first; NVML's (the monitor's, the slots') is by PCI bus. PCI_BUS_ID
        makes CUDA index i the board NVML monitors as index i.
        """
        env = dict(self.extra_env)
        if self.gpu is not None:
            env["CUDA_VISIBLE_DEVICES"] = str(self.gpu)
            env["CUDA_DEVICE_ORDER"] = "PCI_BUS_ID"
        return env


def usable_cpus() -> list[int]:
    """The cores this process may run on."""
    try:
        return sorted(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return list(range(os.cpu_count() or 1))


def gpu_count(environ: Mapping[str, str] | None = None, module: ModuleType | None = None) -> tuple[int, str]:
    """Number of NVIDIA GPUs seen through NVML, and a note when there are none ("no GPU (...)").

    An empty CUDA_VISIBLE_DEVICES (or "none", "-1") in the orchestrator's own environment means no GPU: a run
    started that way (the GPU check's dry run) stays on the CPU even on a GPU machine.
    """
    from orchestrator.measure.gpus import probe_gpus
    from orchestrator.measure.monitor import assigned_gpus

    if assigned_gpus(os.environ if environ is None else environ) == []:
        return 0, "no GPU (CUDA_VISIBLE_DEVICES hides them all)"
    probe = probe_gpus(module)
    return len(probe.gpus), ("" if probe.gpus else probe.summary)


def plan_slots(requested: int | None, gpus: int, cpus: list[int] | None = None) -> list[Slot]:
    """The slots of this machine: one per GPU (at most `requested`), else `requested` CPU slots (default 1).

    Cores are shared out in contiguous, equal blocks; with more slots than cores, slots share cores.
    """
    cores = cpus if cpus is not None else usable_cpus()
    if gpus > 0:
        count = min(gpus, requested) if requested else gpus
    else:
        count = requested or 1
    blocks = split_cores(cores, count)
    return [Slot(index=i, cpus=tuple(blocks[i]), gpu=i if gpus > 0 else None) for i in range(count)]


def split_cores(cores: list[int], count: int) -> list[list[int]]:
    """`count` contiguous blocks of (nearly) equal size; each block has at least one core."""
    if not cores:
        return [[] for _ in range(count)]
    if count >= len(cores):
        return [[cores[i % len(cores)]] for i in range(count)]
    size, rest = divmod(len(cores), count)
    blocks, start = [], 0
    for i in range(count):
        end = start + size + (1 if i < rest else 0)
        blocks.append(cores[start:end])
        start = end
    return blocks
