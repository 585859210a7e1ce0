"""Facts about the machine a cell ran on (CPU, memory); GPUs are added by the monitor when present."""

from __future__ import annotations

import os
import platform
import socket
from functools import lru_cache
from pathlib import Path

import psutil

from orchestrator.results import HostInfo


@lru_cache(maxsize=1)
def host_info() -> HostInfo:
    return HostInfo(
        hostname=socket.gethostname(),
        platform=platform.platform(),
        cpu=_cpu_model(),
        cpu_count=psutil.cpu_count(logical=True),
        memory_gb=round(psutil.virtual_memory().total / 2**30, 1),
        device="cpu",
    )


def host_now() -> HostInfo:
    """The host facts with the machine's load average now (taken just before a cell starts)."""
    return host_info().model_copy(update={"load_average": load_average()})


def load_average() -> list[float]:
    """The machine's 1, 5 and 15-minute load averages (empty where the platform has none)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def busy_note(load: list[float], cores: int | None) -> str | None:
    """A warning when other work already loads the machine: timings taken now are noisy, and settings that win
    on a busy machine (e.g. OpenMP wait policies, docs/backend-settings.md) can lose on a quiet one."""
    if not load or not cores or load[0] < 0.5 * cores:
        return None
    return (f"machine busy: load average {load[0]:.2f} on {cores} core(s) before the run; timings will be noisy "
            "and can rank backends differently than on a quiet machine (each result records its load_average)")


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None
