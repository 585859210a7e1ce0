"""PNG figures like the article's: per workload, s/epoch bars by backend (beside the K80's) and
accuracy-vs-epoch curves by backend; GPU (and CPU) utilization over time where the monitor sampled it.

Matplotlib's object API only (no pyplot state), so figures can be made from any thread.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass
from pathlib import Path

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from orchestrator.monitor import read_series
from orchestrator.report import article
from orchestrator.results import CellResult
from orchestrator.stats import Group

_COLORS = {"tensorflow": "#ff7f0e", "cntk": "#1f77b4", "theano": "#2ca02c", "mxnet": "#d62728",
           "jax": "#9467bd", "torch": "#8c564b", "openvino": "#e377c2", "numpy": "#7f7f7f"}
DPI = 100
_LINESTYLES = ["-", "--", ":", "-."]  # one per GPU of a cell


@dataclass(frozen=True)
class Plot:
    path: Path
    title: str
    caption: str
    workload: str
    kind: str  # epoch_time | accuracy | gpu_utilization | cpu_utilization


def color(backend: str) -> str:
    return _COLORS.get(backend, "#17becf")


def render_all(groups: list[Group], run_path: Path, out_dir: Path) -> list[Plot]:
    """Every figure for the run, written as PNG files into `out_dir`, in reading order."""
    out_dir.mkdir(parents=True, exist_ok=True)
    plots: list[Plot] = []
    for workload in dict.fromkeys(g.workload for g in groups):
        mine = [g for g in groups if g.workload == workload]
        plots.append(epoch_time(workload, mine, out_dir))
        curves = accuracy_curves(workload, mine, out_dir)
        if curves:
            plots.append(curves)
        for kind in ("gpu", "cpu"):
            figure = utilization(workload, mine, run_path, out_dir, kind)
            if figure:
                plots.append(figure)
    return plots


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)


def _save(fig: Figure, path: Path) -> Path:
    fig.savefig(path, dpi=DPI)
    return path


def epoch_time(workload: str, groups: list[Group], out_dir: Path) -> Plot:
    """Steady-state s/epoch by environment (median of repeats, 95% CI whiskers, first epoch hollow),
    and beside it the article's K80 s/epoch by backend."""
    reference = article.for_workload(workload)
    fig = Figure(figsize=(10 if reference else 6.5, 4.2))
    axes = fig.subplots(1, 2 if reference else 1, squeeze=False)[0]
    ax = axes[0]
    labels = [f"{g.environment}\n{g.profile}" if len({x.profile for x in groups}) > 1 else g.environment
              for g in groups]
    positions = range(len(groups))
    for x, g in zip(positions, groups):
        if g.steady is None:
            ax.text(x, 0, "no steady\nstate", ha="center", va="bottom", fontsize=8, color="#888")
            continue
        err = None
        if g.steady.has_interval:
            err = [[g.steady.median - g.steady.low], [g.steady.high - g.steady.median]]  # type: ignore[operator]
        ax.bar(x, g.steady.median, width=0.6, color=color(g.backend), yerr=err, capsize=4,
               label="steady state (median, 95% CI)" if x == 0 else None)
        if g.first_epoch is not None:
            ax.plot([x - 0.3, x + 0.3], [g.first_epoch.median] * 2, color="black", linestyle="--", linewidth=1,
                    label="first epoch" if x == 0 else None)
        ax.annotate(f"{g.steady.median:.3g}", (x, g.steady.median), ha="center", va="bottom", fontsize=8,
                    xytext=(0, 3), textcoords="offset points")
    ax.set_xticks(list(positions), labels, fontsize=8)
    ax.set_ylabel("seconds per epoch")
    ax.set_title(f"{workload}: this run ({_device_label(groups)})", fontsize=10)
    ax.legend(fontsize=7, loc="upper left")
    ax.set_ylim(bottom=0)
    if reference:
        ref_ax = axes[1]
        xs = range(len(reference))
        ref_ax.bar(list(xs), [n.s_per_epoch or 0 for n in reference], width=0.6,
                   color=[color(n.backend) for n in reference], hatch="//", edgecolor="white")
        for x, n in zip(xs, reference):
            ref_ax.annotate(n.s_per_epoch_text, (x, n.s_per_epoch or 0), ha="center", va="bottom", fontsize=8,
                            xytext=(0, 3), textcoords="offset points")
        ref_ax.set_xticks(list(xs), [article.BACKEND_LABELS[n.backend] for n in reference], fontsize=8)
        ref_ax.set_title(f"{workload}: the 2017 article on a K80 ({reference[0].epochs} epochs)", fontsize=10)
        ref_ax.set_ylabel("seconds per epoch")
        ref_ax.set_ylim(bottom=0)
    fig.tight_layout()
    path = _save(fig, out_dir / f"epoch_time_{_slug(workload)}.png")
    caption = ("Bars: steady-state seconds per epoch (median of the epochs after the first; median over repeats, "
               "whiskers the 95% confidence interval). Dashed line: first epoch (compile and warm-up).")
    if reference:
        caption += " Right: the article's K80 numbers (hatched), not measured here."
    return Plot(path, f"{workload}: seconds per epoch by backend", caption, workload, "epoch_time")


def _device_label(groups: list[Group]) -> str:
    devices = {r.host.device for g in groups for r in g.results}
    return ", ".join(sorted(devices)) or "cpu"


def _curve(results: list[CellResult], key: str) -> tuple[list[int], list[float]]:
    """Per epoch, the median of `key` over the repeats that have it."""
    by_epoch: dict[int, list[float]] = {}
    for r in results:
        for e in r.metrics.per_epoch:
            value = getattr(e, key)
            if value is not None:
                by_epoch.setdefault(e.epoch, []).append(value)
    epochs = sorted(by_epoch)
    return epochs, [statistics.median(by_epoch[e]) for e in epochs]


def accuracy_curves(workload: str, groups: list[Group], out_dir: Path) -> Plot | None:
    """Validation accuracy (solid) and training accuracy (dotted) per epoch, one colour per backend."""
    fig = Figure(figsize=(6.5, 4.2))
    ax = fig.subplots()
    drawn = False
    for g in groups:
        for key, style in (("val_accuracy", "-"), ("accuracy", ":")):
            epochs, values = _curve(g.ok, key)
            if epochs:
                ax.plot(epochs, values, style, marker="o", markersize=3, color=color(g.backend),
                        label=f"{g.environment} ({'validation' if key == 'val_accuracy' else 'training'})")
                drawn = True
    if not drawn:
        return None
    for n in article.for_workload(workload):
        if n.test_accuracy is not None:
            ax.axhline(n.test_accuracy, color=color(n.backend), linewidth=0.8, linestyle="--", alpha=0.6,
                       label=f"K80 2017 {article.BACKEND_LABELS[n.backend]} test accuracy")
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy")
    ax.set_title(f"{workload}: accuracy by epoch", fontsize=10)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    path = _save(fig, out_dir / f"accuracy_{_slug(workload)}.png")
    return Plot(path, f"{workload}: accuracy by epoch and backend",
                "Median over repeats at each epoch; dashed horizontal lines: the article's final test accuracy.",
                workload, "accuracy")


def utilization(workload: str, groups: list[Group], run_path: Path, out_dir: Path, kind: str) -> Plot | None:
    """GPU utilization (kind 'gpu') or the cell's CPU use (kind 'cpu') over time, one line per cell."""
    fig = Figure(figsize=(6.5, 3.6))
    ax = fig.subplots()
    drawn = False
    for g in groups:
        for r in g.results:
            series = _series(r, run_path)
            if not series:
                continue
            t = series.get("t_s", [])
            names = [c for c in series if c.startswith("gpu") and c.endswith("_util_percent")] if kind == "gpu" \
                else ["cpu_percent"]
            for style, name in zip(_LINESTYLES * len(names), names):
                points = [(x, y) for x, y in zip(t, series.get(name, [])) if x is not None and y is not None]
                if not points:
                    continue
                suffix = f" {name.split('_')[0]}" if kind == "gpu" else ""
                ax.plot(*zip(*points), style, linewidth=1, color=color(g.backend),
                        alpha=1.0 if r.workload.repeat == 0 else 0.5,
                        label=f"{g.environment} r{r.workload.repeat}{suffix}")
                drawn = True
    if not drawn:
        return None
    ax.set_xlabel("seconds since the cell's process started")
    ax.set_ylabel("GPU utilization %" if kind == "gpu" else "CPU % (100 = one core)")
    ax.set_ylim(bottom=0)
    hz = next((r.monitor.get("hz") for g in groups for r in g.results if r.monitor), None)
    what = "GPU utilization" if kind == "gpu" else "CPU use of the cell's processes"
    ax.set_title(f"{workload}: {what} (sampled at {hz:g} Hz)" if hz else f"{workload}: {what}", fontsize=10)
    ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    path = _save(fig, out_dir / f"{kind}_utilization_{_slug(workload)}.png")
    caption = ("NVML utilization of the GPUs assigned to each cell." if kind == "gpu" else
               "CPU time of the cell's whole process tree per second of wall time (psutil).")
    return Plot(path, f"{workload}: {what} over time", caption, workload, f"{kind}_utilization")


def _series(result: CellResult, run_path: Path) -> dict[str, list[float | None]]:
    name = (result.monitor or {}).get("series_file")
    if not name:
        return {}
    return read_series(run_path / "cells" / Path(name).name)
