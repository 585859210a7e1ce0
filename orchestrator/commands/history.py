"""`orchestrate history`: every series in the store over time (one environment x workload x profile on one
host), the versions that changed along it and the steps change detection flags (orchestrator/analysis/changes.py).
Exit 0 whether or not something changed; the CI gate is `orchestrate compare RUN --baseline store`."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from orchestrator.analysis import changes
from orchestrator.commands._options import number
from orchestrator.workflows.record import add_store_option, store_target
from orchestrator.core.errors import ConfigError
from orchestrator.report.history import html_page, terminal_table
from orchestrator.store.database import Store
from orchestrator.store.series import Series, build_series, matches_host

METHOD = ("Steps: asv's L1 piecewise-constant fit with a penalty over the runs' medians, and the newest run against "
          "the earlier runs (conbench's z-score), each confirmed by the repeats (Mann-Whitney U, bootstrap interval "
          "of the ratio of medians, tie threshold); never across hosts unless --any-host.")


def add_filter_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--env", default=None, metavar="NAME", help="only this environment")
    p.add_argument("--workload", default=None, metavar="NAME", help="only this workload")
    p.add_argument("--profile", default=None, metavar="NAME", help="only this profile")
    p.add_argument("--host", default=None, help="only this hostname or host fingerprint (or its first characters)")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("history", help="each series of the store over time, and the changes found in it")
    add_filter_options(p)
    p.add_argument("--any-host", action="store_true",
                   help="join the hosts into one series (by default a series never spans two hosts)")
    p.add_argument("--html", default=None, metavar="PATH",
                   help="also write the history as one HTML page with a plot per series")
    p.add_argument("--alpha", type=number("--alpha", float, 0.0, 1.0, low_open=True, high_open=True),
                   default=changes.DEFAULT_ALPHA, help="significance level (default 0.1)")
    p.add_argument("--tie-threshold", type=number("--tie-threshold", float, 0.0, 1.0, high_open=True),
                   default=changes.DEFAULT_TIE, help="changes smaller than this fraction are never flagged (default 0.05)")
    add_store_option(p)
    p.set_defaults(func=run)


def selected_series(args: argparse.Namespace, any_host: bool = False) -> list[Series]:
    with Store(store_target(args)) as store:
        rows = store.results(environment=args.env, workload=args.workload, profile=args.profile)
    return build_series([r for r in rows if matches_host(r, args.host)], any_host)


def no_change(series: Series, args: argparse.Namespace) -> str:
    """'no change flagged', with the newest run's ratio to the earlier runs and its interval."""
    text = f"{series.name}: no change flagged over {len(series.points)} run(s)"
    test = changes.newest_test(series.points, [], args.tie_threshold, args.alpha)
    if test is None or test.ratio is None:
        return text
    return (f"{text}; newest run {series.points[-1].run_id} against the earlier: {test.describe()} "
            f"(p={test.describe_p()}, {test.verdict})")


def findings(series: Series, steps: list[changes.Step], args: argparse.Namespace) -> list[tuple[str, str]]:
    """(text, kind) lines under a series: its steps, its version changes not flagged, else the newest run's
    interval. kind: slower | faster | note."""
    lines = [(s.describe(series.name), s.direction) for s in steps]
    flagged = {s.index for s in steps}
    for index, changed, test in changes.at_version_changes(series.points, args.tie_threshold, args.alpha):
        if index not in flagged and test.ratio is not None:
            why = ("a difference on the repeats, not a step beyond the series' run-to-run noise"
                   if test.verdict in ("slower", "faster") else test.verdict)
            lines.append((f"{series.name}: at run {series.points[index].run_id} ({', '.join(changed)}): "
                          f"{test.describe()} after/before (p={test.describe_p()}, {why}): not flagged", "note"))
    noted_newest = any(text.startswith(f"{series.name}: at run {series.points[-1].run_id} ") for text, _ in lines)
    if not steps and not noted_newest:
        lines.append((no_change(series, args), "note"))
    return lines


def run(args: argparse.Namespace, console: Console) -> int:
    found = [(s, changes.detect(s.points, args.tie_threshold, args.alpha)) for s in selected_series(args, args.any_host)]
    if not found:
        raise ConfigError(f"no results in {store_target(args).describe()} match the filters; `orchestrate import "
                          "RUN_DIR` adds runs made before the store")
    pages = []
    for series, steps in found:
        console.print(terminal_table(series, steps))
        lines = findings(series, steps, args)
        for text, kind in lines:
            console.print(f"  {text}", style={"slower": "red", "faster": "green"}.get(kind), markup=False,
                          highlight=False, soft_wrap=True)
        pages.append((series, steps, lines))
    flagged = sum(len(steps) for _, steps in found)
    console.print(f"{len(found)} series, {flagged} change(s) flagged. {METHOD}", highlight=False, soft_wrap=True)
    if args.html:
        Path(args.html).write_text(html_page(pages, METHOD))
        console.print(f"history page: {args.html}", markup=False, highlight=False)
    return 0
