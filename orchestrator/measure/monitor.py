"""What a cell uses while it runs: its GPUs through NVML (nvidia-ml-py), its process tree through psutil.

A `CellMonitor` samples in a background thread at a fixed rate (default 10 Hz) from the moment the cell's
process starts (`watch(pid)`, which fits `run_process(on_start=...)`) until `stop()`. Every sample is one row
of a CSV time series written beside the cell result; `stop()` returns the summary that goes into
`CellResult.monitor`, and `apply()` adds the GPUs' model, driver and CUDA version to `CellResult.host` and the
joules per epoch to `CellResult.energy` (the energy counter, power and RAPL readings are kept in memory for
that: orchestrator/measure/energy.py).

Without a GPU (no NVML library, no driver, no device) the monitor says "no GPU" once per process and
records CPU metrics only. The hook knows nothing about how the cell runs: any runtime that has a PID of the
cell's process tree (a local child, a container's init process) can use it.
"""

from __future__ import annotations

import csv
import math
import threading
import time
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Mapping

import psutil

from orchestrator.measure import energy
from orchestrator.measure.gpus import Nvml, NvmlDevice
from orchestrator.measure.process_tree import ProcessTree, descends_from
from orchestrator.results.schema import CellResult

DEFAULT_HZ = 10.0
# How often the process tree and the GPUs' process lists are re-read (a scan of /proc: costlier than a
# sample). A child's CPU time before it is first seen (at most this long) is not counted.
TREE_REFRESH_S = 0.5
GPU_METRICS = ("util_percent", "memory_used_mb", "power_w", "temperature_c", "energy_mj")

Log = Callable[[str], None]

_no_gpu_said = False


def _say_no_gpu_once(log: Log | None, reason: str) -> None:
    global _no_gpu_said
    if not _no_gpu_said and log:
        log(f"no GPU ({reason}): recording CPU and memory only")
    _no_gpu_said = True


def assigned_gpus(env: Mapping[str, str]) -> list[str] | None:
    """The GPUs a cell may use, from CUDA_VISIBLE_DEVICES (or NVIDIA_VISIBLE_DEVICES): indices or UUIDs.

    None means no restriction (every GPU); an empty list means none ("", "none", "void", "-1").
    """
    for var in ("CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES"):
        if var in env:
            value = env[var].strip()
            if value.lower() == "all":
                return None
            items = [v.strip() for v in value.split(",") if v.strip()]
            if not items or items[0].lower() in ("none", "void") or items[0].startswith("-"):
                return []
            return items
    return None


class CellMonitor:
    """Samples one cell's process tree and GPUs in a background thread; see the module docstring."""

    def __init__(self, series_path: Path | None, hz: float = DEFAULT_HZ, gpus: list[str] | None = None,
                 log: Log | None = None, nvml_module: ModuleType | None = None) -> None:
        if hz <= 0 or not math.isfinite(hz):
            raise ValueError(f"monitor rate must be a positive number of samples per second, got {hz!r}")
        self.hz = hz
        self.series_path = series_path
        self.nvml = Nvml(nvml_module, gpus)
        if not self.nvml.available:
            _say_no_gpu_once(log, self.nvml.reason or "unknown reason")
        self.tree: ProcessTree | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._columns = self._column_names()
        self._acc = [_Running() for _ in self._columns]
        self._series: Any = None
        self._writer: Any = None
        self._started = 0.0
        self._summary: dict[str, Any] | None = None
        self._error: str | None = None
        self._self_cpu_s: float | None = None
        self._started_unix = 0.0
        self.energy = energy.EnergySeries.with_rapl(len(self.nvml.gpus))

    @classmethod
    def for_cell(cls, cells_dir: Path, cell_id: str, hz: float, cell_env: Mapping[str, str],
                 log: Log | None = None) -> "CellMonitor | None":
        """The monitor of a cell (None when the rate is 0: monitoring off); series beside the cell's result."""
        if hz <= 0:
            return None
        return cls(cells_dir / f"{cell_id}.monitor.csv", hz, assigned_gpus(cell_env), log)

    def _column_names(self) -> list[str]:
        names = ["t_s", "cpu_percent", "rss_mb", "processes"]
        for gpu in self.nvml.gpus:
            names += [f"gpu{gpu.index}_{metric}" for metric in GPU_METRICS]
        return names

    def watch(self, pid: int | None) -> None:
        """Start sampling (the process tree under `pid`, if given, and the assigned GPUs)."""
        if self._thread is not None:
            raise RuntimeError("this monitor is already running; make one monitor per cell")
        if pid is not None:
            try:
                self.tree = ProcessTree(pid)
            except psutil.Error:
                self.tree = None
        self._open_series()
        self._started, self._started_unix = time.perf_counter(), time.time()
        self._thread = threading.Thread(target=self._loop, name="cell-monitor", daemon=True)
        self._thread.start()

    def _open_series(self) -> None:
        if self.series_path is None:
            return
        self.series_path.parent.mkdir(parents=True, exist_ok=True)
        self._series = open(self.series_path, "w", newline="")
        self._writer = csv.writer(self._series)
        self._writer.writerow(self._columns)

    def _loop(self) -> None:
        start = time.thread_time()
        try:
            self._sample_until_stopped()
        except Exception as exc:  # the cell goes on; the summary says why sampling ended early
            self._error = f"sampling stopped early: {type(exc).__name__}: {exc}"
        finally:
            self._self_cpu_s = time.thread_time() - start  # what sampling itself cost, for the record

    def _sample_until_stopped(self) -> None:
        interval = 1.0 / self.hz
        next_refresh = 0.0
        tick = 0
        while not self._stop.is_set():
            now = time.perf_counter()
            if now >= next_refresh:
                self._refresh()
                next_refresh = now + TREE_REFRESH_S
            self._record(self._sample(now))
            tick += 1
            delay = self._started + tick * interval - time.perf_counter()
            if delay < 0:  # fell behind (a slow sample): skip the missed ticks instead of bursting
                tick += int(-delay / interval) + 1
                delay = self._started + tick * interval - time.perf_counter()
            self._stop.wait(max(0.0, delay))

    def _refresh(self) -> None:
        tree = self.tree
        if tree is None:
            return
        tree.refresh()
        for gpu in self.nvml.gpus:
            pids = self.nvml.pids_on(gpu)
            if pids & tree.pids:
                gpu.used_by_cell = True
            for pid in pids - tree.pids:
                if not psutil.pid_exists(pid):
                    gpu.foreign_pids.add(pid)
                elif not descends_from(pid, tree.root.pid):
                    gpu.other_pids.add(pid)

    def _sample(self, now: float) -> list[float | None]:
        row: list[float | None] = [now - self._started]
        tree = self.tree
        if tree is not None:
            row += list(tree.sample(now))
        else:
            row += [None, None, None]
        readings = [self.nvml.read(gpu) for gpu in self.nvml.gpus]
        for values in readings:
            row += [values[m] for m in GPU_METRICS]
        self.energy.add(row[0] or 0.0, [v["energy_mj"] for v in readings], [v["power_w"] for v in readings])
        return row

    def _record(self, row: list[float | None]) -> None:
        """Fold a sample into the running summaries and append it to the series file (buffered)."""
        for acc, value in zip(self._acc, row):
            acc.add(value)
        if self._writer is not None:
            self._writer.writerow(["" if v is None else f"{v:.4g}" if isinstance(v, float) else v for v in row])

    def stop(self) -> dict[str, Any]:
        """Stop sampling, close the time series and return the summary (idempotent)."""
        if self._summary is not None:
            return self._summary
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self.tree is not None:  # one last look for GPU processes of the tree
            self._refresh()
        self.nvml.close()
        if self._series is not None:
            self._close_series()
        self._summary = self._summarise()
        return self._summary

    def _close_series(self) -> None:
        """Close the series file; one whose writes failed (a full disk) is recorded and removed, never left
        behind empty or cut short as if it were the cell's data."""
        try:
            self._series.close()
        except OSError as exc:
            self._error = f"series file not written: {exc.strerror}"
        if self._error and self.series_path is not None:
            self.series_path.unlink(missing_ok=True)
            self.series_path = None

    def _col(self, name: str) -> "_Running":
        return self._acc[self._columns.index(name)]

    def _summarise(self) -> dict[str, Any]:
        return {
            "hz": self.hz,
            "samples": self._col("t_s").count,
            "duration_s": _round(self._col("t_s").max),
            "series_file": self.series_path.name if self.series_path else None,
            "gpu_available": self.nvml.available,
            "gpu_note": None if self.nvml.available else f"no GPU: {self.nvml.reason}",
            "cpu": self._cpu_summary(),
            "gpus": [self._gpu_summary(gpu) for gpu in self.nvml.gpus],
            "self_cpu_s": _round(self._self_cpu_s, 4),
            "started_unix": round(self._started_unix, 3),  # wall clock of t_s = 0 in the series
            "error": self._error,
        }

    def _cpu_summary(self) -> dict[str, Any]:
        cpu, rss = self._col("cpu_percent"), self._col("rss_mb")
        return {
            "mean_percent": _round(cpu.mean),
            "max_percent": _round(cpu.max),
            "peak_rss_mb": _round(rss.max),
            "mean_rss_mb": _round(rss.mean),
            "max_processes": int(self._col("processes").max or 0) or None,
        }

    def _gpu_summary(self, gpu: NvmlDevice) -> dict[str, Any]:
        util, memory, power, temp = (self._col(f"gpu{gpu.index}_{m}") for m in GPU_METRICS[:4])
        return {
            "index": gpu.index,
            "name": gpu.info.get("name"),
            "used_by_cell": gpu.used_by_cell,
            "util_mean_percent": _round(util.mean),
            "util_max_percent": _round(util.max),
            "memory_used_max_mb": _round(memory.max),
            "power_mean_w": _round(power.mean),
            "power_max_w": _round(power.max),
            "temperature_max_c": _round(temp.max),
            "unsupported": sorted(gpu.unsupported),
            "other_pids": sorted(gpu.other_pids),
            "foreign_pids": sorted(gpu.foreign_pids),
        }

    def apply(self, result: CellResult) -> CellResult:
        """The result with the monitor summary and, where GPUs were present, their model/driver/CUDA."""
        summary = self.stop()
        update: dict[str, Any] = {"monitor": summary, "energy": self.cell_energy(result)}
        if self.nvml.gpus:
            update["host"] = result.host.model_copy(update={
                "gpus": [dict(g.info, used_by_cell=g.used_by_cell) for g in self.nvml.gpus],
                "device": self._device(result),
            })
        return result.model_copy(update=update)

    def _device(self, result: CellResult) -> str:
        """"gpu:N" only when NVML saw the cell's process on GPU N and the framework says the model ran on a GPU
        (a CPU build of a framework in a process NVML lists, e.g. for its CUDA context, is not on the GPU)."""
        used = [g.index for g in self.nvml.gpus if g.used_by_cell]
        framework = (result.host.framework_device or {}).get("kind")
        if used and framework == "gpu":
            return "gpu:" + ",".join(str(i) for i in used)
        return result.host.device

    def cell_energy(self, result: CellResult) -> dict[str, Any]:
        """Joules per epoch and per sample (orchestrator/measure/energy.py) from this monitor's readings."""
        facts = [energy.GpuFacts(g.index, g.used_by_cell, sorted(g.other_pids), sorted(g.foreign_pids))
                 for g in self.nvml.gpus]
        t = result.timings
        samples = t.samples_per_s * t.steady_state_s if t.samples_per_s and t.steady_state_s else None
        return energy.cell_energy(self.energy, facts, result.metrics.per_epoch, self._started_unix, samples,
                                  self.nvml.reason)


class _Running:
    """Count, mean and maximum of a column, kept as samples arrive (no series held in memory)."""

    def __init__(self) -> None:
        self.count = 0
        self.total = 0.0
        self.max: float | None = None

    def add(self, value: float | None) -> None:
        if value is None:
            return
        self.count += 1
        self.total += value
        self.max = value if self.max is None or value > self.max else self.max

    @property
    def mean(self) -> float | None:
        return self.total / self.count if self.count else None


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(float(value), digits)


def read_series(path: Path) -> dict[str, list[float | None]]:
    """A monitor CSV as columns (empty cells as None); {} when the file is missing."""
    if not Path(path).is_file():
        return {}
    with open(path, newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if not header:
            return {}
        columns: dict[str, list[float | None]] = {name: [] for name in header}
        for row in reader:
            for name, value in zip(header, row):
                columns[name].append(float(value) if value else None)
    return columns
