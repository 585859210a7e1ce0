"""A warm start: a parent process per environment imports the framework once and forks a fresh child for each of
its cells (workloads/warm_parent.py), so a cell no longer pays the import (4-8 s on the Keras 3 backends).

The child is watched as `process.run_process` watches a fresh process: its deadline, its process tree's memory and
the cancel flag, then stopped by its process group (it runs in its own session). The parent's import time and PID
go into every child's result (`timings.warm_start`), so a run's cost counts the import once per parent. Parents are
started from one long-lived thread (a process started by a thread dies with that thread: PR_SET_PDEATHSIG) and
stopped by their PID when the runtime closes. An environment opts in with `warm_start: true` (matrix.yaml), after
benchmarks/warm_start.py showed its children time like fresh processes (docs/measuring.md, "Warm start").
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, Callable

from orchestrator.core.errors import InfrastructureError
from orchestrator.core.processes import child_setup, tail
from orchestrator.execution.process import HarnessOutcome, Limits, read_events, tree_rss_gb

READY_S = 600.0  # the parent's import (a cold disk cache on a busy machine)
FORK_S = 30.0  # from a request to the child's PID
GRACE_S = 5.0  # SIGTERM to SIGKILL


class WarmParent:
    """One warm parent: started on creation, then `run` forks one child per cell, one at a time."""

    def __init__(self, python: str, script: Path, env: dict[str, str], cwd: Path, log_path: Path) -> None:
        self.log_path = log_path
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "ab") as log:
            self.proc = _spawn([python, str(script)], env, cwd, log)
        self._replies: queue.Queue[dict[str, Any] | None] = queue.Queue()
        threading.Thread(target=self._read, name=f"warm-{self.proc.pid}", daemon=True).start()
        ready = self._next(READY_S)
        if ready is None or "ready" not in ready:
            self.stop()
            raise InfrastructureError(f"the warm-start parent (pid {self.proc.pid}) did not come up: "
                                      f"{tail(log_path) or 'no output'} (log: {log_path})")
        self.import_s = float(ready["ready"])

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def run(self, spec_path: Path, events_path: Path, log_path: Path, timeout_s: float, limits: Limits,
            on_start: Callable[[int], None] | None = None) -> HarnessOutcome:
        """Fork a child for one cell and wait for it as `run_process` waits for a fresh process."""
        events_path.unlink(missing_ok=True)
        log_path.parent.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        self._send({"spec": str(spec_path), "events": str(events_path), "log": str(log_path),
                    "cpus": list(limits.cpus)})
        forked = self._next(FORK_S)
        if forked is None or "forked" not in forked:
            raise InfrastructureError(f"the warm-start parent (pid {self.pid}) did not fork the cell: "
                                      f"{tail(self.log_path) or 'no output'}")
        pid = int(forked["forked"])
        if on_start:
            on_start(pid)
        exited, reason, peak = self._watch(pid, start + timeout_s, limits)
        wall = time.perf_counter() - start
        rc = int(exited["returncode"])
        return HarnessOutcome(
            returncode=rc, timed_out=reason == "timeout", wall_s=wall, events=read_events(events_path),
            log_tail=tail(log_path), signal_name=signal.Signals(-rc).name if rc < 0 else None,
            memory_exceeded_gb=peak if reason == "memory" else None, cancelled=reason == "cancelled")

    def stop(self) -> None:
        """Ask the parent to end; stop it by its PID if it does not."""
        if self.alive():
            try:
                self._send({"quit": True})
                self.proc.wait(timeout=GRACE_S)
            except (InfrastructureError, subprocess.TimeoutExpired):
                _kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=30)

    def _watch(self, pid: int, deadline: float, limits: Limits) -> tuple[dict[str, Any], str | None, float]:
        """Until the child's exit message: (it, why the host stopped it or None, peak memory GiB)."""
        reason: str | None = None
        peak = 0.0
        while True:
            message = self._next(limits.poll_s)
            if message is not None and message.get("exited") == pid:
                return message, reason, peak
            if reason is None:
                rss = tree_rss_gb(pid) if limits.memory_gb is not None else 0.0
                peak = max(peak, rss)
                if limits.memory_gb is not None and rss > limits.memory_gb:
                    reason = "memory"
                elif limits.cancel is not None and limits.cancel.is_set():
                    reason = "cancelled"
                elif time.perf_counter() >= deadline:
                    reason = "timeout"
                if reason:
                    _stop_group(pid)

    def _send(self, message: dict[str, Any]) -> None:
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.write(json.dumps(message) + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError, ValueError) as exc:
            raise InfrastructureError(f"the warm-start parent (pid {self.pid}) is gone: {exc}; "
                                      f"{tail(self.log_path)}") from exc

    def _next(self, timeout_s: float) -> dict[str, Any] | None:
        """The parent's next message, None when none came within `timeout_s`; raise when the parent died."""
        try:
            message = self._replies.get(timeout=timeout_s)
        except queue.Empty:
            return None
        if message is None:  # the parent's output ended: it died
            raise InfrastructureError(f"the warm-start parent (pid {self.pid}) ended (exit {self.proc.poll()}): "
                                      f"{tail(self.log_path) or 'no output'}")
        return message

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            try:
                self._replies.put(json.loads(line))
            except ValueError:
                continue
        self._replies.put(None)


def _spawn(command: list[str], env: dict[str, str], cwd: Path, log: Any) -> subprocess.Popen[str]:
    return subprocess.Popen(command, env=env, cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                            text=True, bufsize=1, start_new_session=True, preexec_fn=child_setup(()))


def _stop_group(pid: int) -> None:
    """SIGTERM the child's process group, SIGKILL it after the grace (the parent then reports its exit)."""
    _kill(pid, signal.SIGTERM, group=True)
    end = time.perf_counter() + GRACE_S
    while time.perf_counter() < end:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        if _zombie(pid):
            return
        time.sleep(0.1)
    _kill(pid, signal.SIGKILL, group=True)


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return True


def _kill(pid: int, sig: int, group: bool = False) -> None:
    try:
        (os.killpg if group else os.kill)(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


class Spawner:
    """Runs callables on one long-lived thread, so that the processes they start outlive any cell thread (a process
    started with PR_SET_PDEATHSIG dies with the thread that started it) and die with this process."""

    def __init__(self) -> None:
        self._jobs: queue.Queue[tuple[Callable[[], Any], queue.Queue[tuple[bool, Any]]]] = queue.Queue()
        threading.Thread(target=self._loop, name="warm-spawner", daemon=True).start()

    def call(self, job: Callable[[], Any]) -> Any:
        box: queue.Queue[tuple[bool, Any]] = queue.Queue()
        self._jobs.put((job, box))
        ok, value = box.get()
        if not ok:
            raise value
        return value

    def _loop(self) -> None:
        while True:
            job, box = self._jobs.get()
            try:
                box.put((True, job()))
            except BaseException as exc:  # noqa: BLE001 - handed back to the caller's thread
                box.put((False, exc))


__all__ = ["Spawner", "WarmParent"]
