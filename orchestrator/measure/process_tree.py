"""A cell's process tree as psutil sees it: CPU use and resident memory of a process and its descendants."""

from __future__ import annotations

import psutil


class ProcessTree:
    """CPU use and resident memory of a process and all its descendants, summed."""

    def __init__(self, pid: int) -> None:
        self.root = psutil.Process(pid)
        self.procs: dict[int, psutil.Process] = {pid: self.root}
        self.last_cpu: dict[int, float] = {}
        self.last_time: float | None = None

    def refresh(self) -> None:
        try:
            children = self.root.children(recursive=True)
        except psutil.Error:
            children = []
        alive = {self.root.pid: self.root}
        for child in children:
            alive[child.pid] = self.procs.get(child.pid, child)
        self.procs = alive

    @property
    def pids(self) -> set[int]:
        return set(self.procs)

    def sample(self, now: float) -> tuple[float | None, float, int]:
        """(CPU % over the last interval, in % of one core; RSS in MiB; live processes)."""
        cpu_now: dict[int, float] = {}
        rss = 0
        for pid, proc in list(self.procs.items()):
            try:
                with proc.oneshot():
                    times = proc.cpu_times()
                    rss += proc.memory_info().rss
                cpu_now[pid] = times.user + times.system
            except psutil.Error:
                self.procs.pop(pid, None)
        percent = None
        if self.last_time is not None and now > self.last_time:
            # A process first seen now counts from now on (its earlier CPU time would make a false spike).
            used = sum(t - self.last_cpu.get(pid, t) for pid, t in cpu_now.items())
            percent = max(0.0, 100.0 * used / (now - self.last_time))
        self.last_cpu, self.last_time = cpu_now, now
        return percent, rss / 2**20, len(cpu_now)


def descends_from(pid: int, root: int) -> bool:
    """Whether a process is (still) a descendant of `root` (a child the last tree refresh had not seen yet)."""
    try:
        return any(parent.pid == root for parent in psutil.Process(pid).parents())
    except psutil.Error:
        return False
