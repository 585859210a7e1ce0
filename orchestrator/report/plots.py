"""PNG figures: per workload, each backend's time relative to the reference with interval whiskers (the
article's K80 ratios beside them: ratios, never seconds across hardware), this run's s/epoch bars and
accuracy-vs-epoch curves by backend; across workloads the Dolan-More performance profile; GPU (and CPU)
utilization over time where the monitor sampled it.

Matplotlib's object API only (no pyplot state), so figures can be made from any thread.
"""

from __future__ import annotations

import math
import re
import statistics
from dataclasses import dataclass
from pathlib import Path

from matplotlib.figure import Figure
from matplotlib.ticker import LogLocator, MaxNLocator, NullFormatter, ScalarFormatter

from orchestrator.measure.monitor import read_series

from orchestrator.analysis import article
from orchestrator.analysis.verdicts.assemble import VerdictReport
from orchestrator.report.sections import k80_ratio
from orchestrator.results.schema import CellResult
from orchestrator.analysis.stats import Group
from orchestrator.analysis.verdicts.rows import WorkloadVerdict

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
    kind: str  # ratio | performance_profile | epoch_time | accuracy | gpu_utilization | cpu_utilization


def color(backend: str) -> str:
    return _COLORS.get(backend, "#17becf")


def render_all(groups: list[Group], run_path: Path, out_dir: Path,
               verdicts: VerdictReport | None = None) -> list[Plot]:
    """Every figure for the run, written as PNG files into `out_dir`, in reading order."""
    out_dir.mkdir(parents=True, exist_ok=True)
    plots: list[Plot] = []
    if verdicts is not None and len(verdicts.workloads) > 1 and len(verdicts.profile) > 1:
        plots.append(performance_profile(verdicts, out_dir))
    for workload in dict.fromkeys(g.workload for g in groups):
        mine = [g for g in groups if g.workload == workload]
        for v in verdicts.workloads if verdicts else []:
            if v.workload == workload and len(v.rows) > 1:
                plots.append(ratios(v, out_dir))
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
    """Steady-state s/epoch by environment on this machine (median of repeats, interval whiskers, first epoch
    dashed). The article's K80 seconds are not drawn beside them: other hardware, other scale (see `ratios`)."""
    fig = Figure(figsize=(6.5, 4.2))
    ax = fig.subplots()
    labels = [f"{g.environment}\n{g.profile}" if len({x.profile for x in groups}) > 1 else g.environment
              for g in groups]
    positions = range(len(groups))
    first = next((x for x, g in zip(positions, groups) if g.steady is not None), None)  # labelled once, for the legend
    for x, g in zip(positions, groups):
        if g.steady is None:
            ax.text(x, 0, "no steady\nstate", ha="center", va="bottom", fontsize=8, color="#888")
            continue
        err = None
        if g.steady.has_interval:
            err = [[g.steady.median - g.steady.low], [g.steady.high - g.steady.median]]  # type: ignore[operator]
        ax.bar(x, g.steady.median, width=0.6, color=color(g.backend), yerr=err, capsize=4,
               label="steady state (median of repeats, interval)" if x == first else None)
        if g.first_epoch is not None:
            ax.plot([x - 0.3, x + 0.3], [g.first_epoch.median] * 2, color="black", linestyle="--", linewidth=1,
                    label="first epoch" if x == first else None)
        ax.annotate(f"{g.steady.median:.3g}", (x, g.steady.median), ha="center", va="bottom", fontsize=8,
                    xytext=(0, 3), textcoords="offset points")
    ax.set_xticks(list(positions), labels, fontsize=7, rotation=20)
    ax.set_ylabel("seconds per epoch")
    ax.set_title(f"{workload}: this run ({_device_label(groups)})", fontsize=10)
    _legend(ax, "upper left")
    ax.set_ylim(bottom=0)
    fig.tight_layout()
    path = _save(fig, out_dir / f"epoch_time_{_slug(workload)}.png")
    caption = ("Bars: steady-state seconds per epoch (per repeat the median of the epochs after the first; the "
               "median over repeats, whiskers its interval; none with one repeat). Dashed line: first epoch "
               "(compile and warm-up).")
    return Plot(path, f"{workload}: seconds per epoch by backend", caption, workload, "epoch_time")


def ratios(verdict: WorkloadVerdict, out_dir: Path) -> Plot:
    """Each backend's time relative to the reference (log scale, 95% interval whiskers, the tie band shaded),
    the article's K80 ratio beside it as a hollow diamond where the article has both backends."""
    rows = verdict.rows
    fig = Figure(figsize=(max(6.5, 1.1 * len(rows) + 2), 4.4))
    ax = fig.subplots()
    threshold = verdict.settings.tie_threshold
    ax.axhspan(1 - threshold, 1 + threshold, color="#dddddd", alpha=0.6, label=f"tie band (within {threshold:.0%})")
    ax.axhline(1.0, color="black", linewidth=0.8)
    drawn_k80 = False
    for x, row in enumerate(rows):
        vs = row.vs_reference
        ratio = 1.0 if vs is None else vs.ratio
        excluded = not row.validity.valid
        if ratio is not None:
            err = None
            if vs is not None and vs.has_interval:
                err = [[ratio - vs.low], [vs.high - ratio]]  # type: ignore[operator]
            ax.errorbar(x - 0.1, ratio, yerr=err, fmt="o", markersize=7, capsize=4,
                        color="#aaaaaa" if excluded else color(row.group.backend))
            note = "excluded" if excluded else (vs.verdict if vs else "reference")
            ax.annotate(f"{ratio:.2f}\n{note}", (x - 0.1, ratio), fontsize=7, ha="right", va="bottom",
                        xytext=(-5, 3), textcoords="offset points", color="#b00020" if excluded else "#333")
        k80 = k80_ratio(verdict, row.environment)
        if k80 is not None:
            ax.plot(x + 0.15, k80, "D", markersize=7, markerfacecolor="none", markeredgecolor="black",
                    label="K80 2017 ratio (the article)" if not drawn_k80 else None)
            drawn_k80 = True
    ax.set_yscale("log")
    _log_ticks(ax.yaxis)
    ax.set_xticks(list(range(len(rows))), [r.environment for r in rows], fontsize=8, rotation=20)
    ax.set_ylabel(f"time / {verdict.reference} time (log)")
    ax.set_title(f"{verdict.workload} ({verdict.profile}): time relative to {verdict.reference}, below 1 is faster",
                 fontsize=10)
    _legend(ax, "best")
    fig.tight_layout()
    path = _save(fig, out_dir / f"ratio_{_slug(verdict.workload)}_{_slug(verdict.profile)}.png")
    caption = (f"Points: the Hodges-Lehmann ratio of steady-state times to {verdict.reference}'s, whiskers its "
               "interval (95%, or the level 3 repeats reach, 90%; none with one repeat); grey: excluded from "
               "verdicts (reason in the table). "
               "Hollow diamonds: the article's ratio between the same backends on its K80, where it has both.")
    return Plot(path, f"{verdict.workload}: time relative to {verdict.reference}", caption, verdict.workload, "ratio")


def _legend(ax, loc: str) -> None:  # noqa: ANN001 (a matplotlib Axes)
    """A legend of the labelled artists; none where nothing is labelled (matplotlib would warn)."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7, loc=loc)


def _log_ticks(axis) -> None:  # noqa: ANN001 (a matplotlib Axis)
    """Plain numbers at 1, 2, 5 x 10^k on a log axis, no minor labels."""
    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(ScalarFormatter())
    axis.set_minor_formatter(NullFormatter())


def performance_profile(verdicts: VerdictReport, out_dir: Path) -> Plot:
    """Dolan-More: rho(tau), the share of workloads on which a backend is within a factor tau of the fastest
    valid one (invalid or missing: never)."""
    curves = verdicts.profile
    finite = [f for c in curves for f in c.factors if math.isfinite(f)]
    top = max(finite + [1.0]) * 1.15
    taus = sorted({1.0, top, *finite})
    fig = Figure(figsize=(6.5, 4.2))
    ax = fig.subplots()
    for i, c in enumerate(curves):
        ax.step(taus, [c.share_within(t) for t in taus], where="post", linewidth=1.5,
                linestyle=_LINESTYLES[i % len(_LINESTYLES)], color=color(c.backend), label=c.environment)
    ax.set_xscale("log")
    _log_ticks(ax.xaxis)
    ax.set_xlim(1.0, top)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("tau: within this factor of the fastest valid backend (log)")
    ax.set_ylabel("share of workloads")
    ax.set_title(f"Performance profile over {len(verdicts.workloads)} workload(s)", fontsize=10)
    _legend(ax, "lower right")
    fig.tight_layout()
    path = _save(fig, out_dir / "performance_profile.png")
    caption = ("Dolan-More performance profile, as MLCommons AlgoPerf scores submissions: for each backend the "
               "share of workloads on which its median time is within a factor tau of the fastest valid backend's "
               "(at tau = 1: how often it is the fastest). Higher and further left is better.")
    return Plot(path, "Performance profile across workloads", caption, "", "performance_profile")


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
    _legend(ax, "lower right")
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
    labelled: set[str] = set()  # one legend entry per environment (and GPU), not per repeat: 7 x 12 would not fit
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
                label = f"{g.environment}{suffix}"
                ax.plot(*zip(*points), style, linewidth=1, color=color(g.backend),
                        alpha=1.0 if r.workload.repeat == 0 else 0.5,
                        label=None if label in labelled else label)
                labelled.add(label)
                drawn = True
    if not drawn:
        return None
    ax.set_xlabel("seconds since the cell's process started")
    ax.set_ylabel("GPU utilization %" if kind == "gpu" else "CPU % (100 = one core)")
    ax.set_ylim(bottom=0)
    hz = next((r.monitor.get("hz") for g in groups for r in g.results if r.monitor), None)
    what = "GPU utilization" if kind == "gpu" else "CPU use of the cell's processes"
    ax.set_title(f"{workload}: {what} (sampled at {hz:g} Hz)" if hz else f"{workload}: {what}", fontsize=10)
    _legend(ax, "upper right")
    fig.tight_layout()
    path = _save(fig, out_dir / f"{kind}_utilization_{_slug(workload)}.png")
    caption = ("NVML utilization of the GPUs assigned to each cell." if kind == "gpu" else
               "CPU time of the cell's whole process tree per second of wall time (psutil).")
    caption += " One line per repeat (the first opaque, later ones faded); the legend names each environment once."
    return Plot(path, f"{workload}: {what} over time", caption, workload, f"{kind}_utilization")


def _series(result: CellResult, run_path: Path) -> dict[str, list[float | None]]:
    name = (result.monitor or {}).get("series_file")
    if not name:
        return {}
    return read_series(run_path / "cells" / Path(name).name)
