"""Facts about the machine a cell ran on (CPU, memory); GPUs are added by the monitor when present."""

from __future__ import annotations

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


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None
