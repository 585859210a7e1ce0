"""The store's results over time (`orchestrate history`): every series (one environment x workload x profile on
one host), the versions that changed along it and the steps change detection flags (analysis/changes.py); and the
filtered rows `orchestrate export` writes."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from rich.console import Console

from orchestrator.analysis import changes
from orchestrator.core.errors import ConfigError
from orchestrator.report.history import html_page, terminal_table
from orchestrator.store.database import Store, Target
from orchestrator.store.series import Series, build_series, matches_host

METHOD = ("Steps: asv's L1 piecewise-constant fit with a penalty over the runs' medians, and the newest run against "
          "the earlier runs (conbench's z-score), each confirmed by the repeats (Mann-Whitney U, bootstrap interval "
          "of the ratio of medians, tie threshold); never across hosts unless --any-host.")


@dataclasses.dataclass(frozen=True)
class Filters:
    """Which of the store's rows (None: any): an environment, workload, profile, and a hostname or host fingerprint
    (or its first characters)."""

    environment: str | None = None
    workload: str | None = None
    profile: str | None = None
    host: str | None = None


def store_rows(target: Target, filters: Filters) -> list[dict[str, Any]]:
    """The store's result rows that pass the filters."""
    with Store(target) as store:
        rows = store.results(environment=filters.environment, workload=filters.workload, profile=filters.profile)
    return [r for r in rows if matches_host(r, filters.host)]


def selected_series(target: Target, filters: Filters, any_host: bool = False) -> list[Series]:
    return build_series(store_rows(target, filters), any_host)


def no_change(series: Series, tie_threshold: float, alpha: float) -> str:
    """'no change flagged', with the newest run's ratio to the earlier runs and its interval."""
    text = f"{series.name}: no change flagged over {len(series.points)} run(s)"
    test = changes.newest_test(series.points, [], tie_threshold, alpha)
    if test is None or test.ratio is None:
        return text
    return (f"{text}; newest run {series.points[-1].run_id} against the earlier: {test.describe()} "
            f"(p={test.describe_p()}, {test.verdict})")


def findings(series: Series, steps: list[changes.Step], tie_threshold: float,
             alpha: float) -> list[tuple[str, str]]:
    """(text, kind) lines under a series: its steps, its version changes not flagged, else the newest run's
    interval. kind: slower | faster | note."""
    lines = [(s.describe(series.name), s.direction) for s in steps]
    flagged = {s.index for s in steps}
    for index, changed, test in changes.at_version_changes(series.points, tie_threshold, alpha):
        if index not in flagged and test.ratio is not None:
            why = ("a difference on the repeats, not a step beyond the series' run-to-run noise"
                   if test.verdict in ("slower", "faster") else test.verdict)
            lines.append((f"{series.name}: at run {series.points[index].run_id} ({', '.join(changed)}): "
                          f"{test.describe()} after/before (p={test.describe_p()}, {why}): not flagged", "note"))
    noted_newest = any(text.startswith(f"{series.name}: at run {series.points[-1].run_id} ") for text, _ in lines)
    if not steps and not noted_newest:
        lines.append((no_change(series, tie_threshold, alpha), "note"))
    return lines


def history(target: Target, filters: Filters, console: Console, any_host: bool = False,
            tie_threshold: float = changes.DEFAULT_TIE, alpha: float = changes.DEFAULT_ALPHA,
            html: str | Path | None = None) -> int:
    """Print every selected series with its findings (and write them as one HTML page to `html`); exit code 0
    whether or not something changed (the CI gate is `orchestrate compare RUN --baseline store`)."""
    found = [(s, changes.detect(s.points, tie_threshold, alpha)) for s in selected_series(target, filters, any_host)]
    if not found:
        raise ConfigError(f"no results in {target.describe()} match the filters; `orchestrate import "
                          "RUN_DIR` adds runs made before the store")
    pages = []
    for series, steps in found:
        console.print(terminal_table(series, steps))
        lines = findings(series, steps, tie_threshold, alpha)
        for text, kind in lines:
            console.print(f"  {text}", style={"slower": "red", "faster": "green"}.get(kind), markup=False,
                          highlight=False, soft_wrap=True)
        pages.append((series, steps, lines))
    flagged = sum(len(steps) for _, steps in found)
    console.print(f"{len(found)} series, {flagged} change(s) flagged. {METHOD}", highlight=False, soft_wrap=True)
    if html:
        Path(html).write_text(html_page(pages, METHOD))
        console.print(f"history page: {html}", markup=False, highlight=False)
    return 0
