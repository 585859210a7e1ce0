"""`orchestrate history` as a terminal table per series and one HTML page with a plot per series (PNG as data
URIs, no external resources): each run's median s/epoch with its repeats, the versions that changed along the
series, and the steps change detection flagged."""

from __future__ import annotations

import base64
import datetime as dt
import io
from html import escape

from matplotlib.figure import Figure
from rich.markup import escape as markup_escape
from rich.table import Table

from orchestrator.analysis.changes import Point, Step, version_changes
from orchestrator.report.html_table import html_table
from orchestrator.report.plots import DPI
from orchestrator.analysis.stats import estimate
from orchestrator.store.series import Series


HISTORY_HEADERS = ("run", "time", "n", "s/epoch", "load", "changed")


def _estimate(point: Point) -> str:
    if not point.samples:
        return "no ok result"
    return estimate(point.samples).describe()


def _changes(series: Series) -> list[str]:
    """For each point, the versions that differ from the point before it."""
    changes = [""]
    for before, after in zip(series.points, series.points[1:]):
        changes.append(", ".join(version_changes(before.versions, after.versions)))
    return changes


def terminal_table(series: Series, steps: list[Step]) -> Table:
    flagged = {s.index: s for s in steps}
    table = Table(title=markup_escape(series.title), title_justify="left")
    for header in ("run", "time", "n", "s/epoch median \\[interval]", "load", "changed", "step"):
        table.add_column(header, overflow="fold")
    for i, (point, change, load) in enumerate(zip(series.points, _changes(series), series.loads)):
        step = flagged.get(i)
        mark = f"{step.test.ratio:.2f}x {step.direction}" if step else ""
        table.add_row(markup_escape(point.run_id), point.time or "-", str(len(point.samples)),
                      markup_escape(_estimate(point)), "-" if load is None else f"{load:.1f}", change or "-", mark,
                      style=("bold red" if step and step.direction == "slower" else "bold green") if step else None)
    return table


def plot_uri(series: Series, steps: list[Step]) -> str:
    """The series as a PNG data URI: every repeat as a dot, each run's median as a line, steps marked."""
    fig = Figure(figsize=(8, 3.2))
    ax = fig.add_subplot()
    xs = list(range(len(series.points)))
    for x, point in zip(xs, series.points):
        ax.scatter([x] * len(point.samples), point.samples, s=12, color="#999999", zorder=2)
    medians = [(x, p.median) for x, p in zip(xs, series.points) if p.samples]
    ax.plot([m[0] for m in medians], [m[1] for m in medians], marker="o", color="#1f77b4", zorder=3)
    for step in steps:
        ax.axvline(step.index - 0.5, color="#b00020" if step.direction == "slower" else "#17702a", linestyle="--")
        ax.annotate(f"{step.test.ratio:.2f}x", (step.index - 0.5, ax.get_ylim()[1]), fontsize=8, ha="right",
                    va="top")
    ax.set_xticks(xs, [p.run_id for p in series.points], rotation=30, ha="right", fontsize=7)
    ax.set_ylabel("steady s/epoch")
    ax.set_title(series.title, fontsize=9)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def html_page(found: list[tuple[Series, list[Step], list[tuple[str, str]]]], method: str) -> str:
    """found: each series, its steps and the lines printed under it ((text, slower | faster | note))."""
    sections = []
    for series, steps, notes in found:
        lines = "".join(f"<li class=\"{escape(kind)}\">{escape(text)}</li>" for text, kind in notes)
        rows = [[p.run_id, p.time or "-", len(p.samples), _estimate(p), "-" if load is None else f"{load:.1f}",
                 change or "-"] for p, change, load in zip(series.points, _changes(series), series.loads)]
        sections.append(
            f"<section><h2>{escape(series.title)}</h2>"
            f"<ul>{lines or '<li>no change flagged</li>'}</ul>"
            f"<img alt=\"{escape(series.name)}\" src=\"{plot_uri(series, steps)}\">"
            + html_table(HISTORY_HEADERS, rows) + "</section>")
    made = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    return ("<!doctype html><html><head><meta charset=\"utf-8\"><title>orchestrate history</title><style>"
            "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}"
            "table{border-collapse:collapse;font-size:.85em}td,th{border:1px solid #ccc;padding:3px 7px}"
            ".slower{color:#b00020}.faster{color:#17702a}img{max-width:100%}</style></head><body>"
            f"<h1>History</h1><p>{len(found)} series; made {made}. {escape(method)}</p>"
            + "".join(sections) + "</body></html>")
