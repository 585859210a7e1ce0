"""Facts about the machine a cell ran on (CPU, memory); GPUs are added by the monitor when present."""

from __future__ import annotations

import os
import platform
import socket
from functools import lru_cache
from pathlib import Path

import psutil

from orchestrator.results.schema import HostInfo


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


def busy_note(load: list[float], cores: int | None, other_runs: list[int] | None = None) -> str | None:
    """A warning when other work already loads the machine (its load average, or other `orchestrate run`s that
    will compete for the cores while this one runs): timings taken now are noisy, and settings that win on a busy
    machine (e.g. OpenMP wait policies, docs/backend-settings.md) can lose on a quiet one."""
    loaded = bool(load and cores and load[0] >= 0.5 * cores)
    if not loaded and not other_runs:
        return None
    why = []
    if other_runs:
        pids = ", ".join(map(str, other_runs))
        why.append(f"{len(other_runs)} other orchestrate run(s) on this machine (pid {pids})")
    if load and cores:
        why.append(f"load average {load[0]:.2f} on {cores} core(s)")
    return (f"machine busy: {' and '.join(why)} before the run; timings will be noisy "
            "and can rank backends differently than on a quiet machine (each result records its load_average)")


def other_runs() -> list[int]:
    """The PIDs of the other `orchestrate run` processes on this machine (the console script or
    `python -m orchestrator.cli run`)."""
    found = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        if proc.info["pid"] != os.getpid() and _is_run(proc.info["cmdline"] or []):
            found.append(proc.info["pid"])
    return sorted(found)


def _is_run(cmdline: list[str]) -> bool:
    for i, word in enumerate(cmdline[:4]):
        if Path(word).name == "orchestrate" or (word == "orchestrator.cli" and cmdline[i - 1:i] == ["-m"]):
            return cmdline[i + 1:i + 2] == ["run"]
    return False


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None
