"""Sequential repeats for `orchestrate run --budget`: after the first round (the profile's repeats, interleaved),
rounds of further repeats only for the environments in still-undecided pairs, interleaved, until every pair is
decided, the last look is reached, or the time budget would be exceeded. The rule is analysis/sequential.py's
(pure); this driver only expands cells (next repeat indices) and calls the Scheduler once per round."""

from __future__ import annotations

import datetime as dt
import re

from rich.console import Console

from orchestrator.analysis.sequential import next_round
from orchestrator.analysis.stats import group_results
from orchestrator.analysis.verdicts.settings import Settings
from orchestrator.analysis.verdicts.family import pair_states
from orchestrator.core.errors import ConfigError
from orchestrator.config.cell import Cell
from orchestrator.analysis.verdicts import assemble as verdict
from orchestrator.results.schema import CellResult
from orchestrator.rundir.layout import RunDir
from orchestrator.results.io import load_cells
from orchestrator.scheduling.scheduler import Scheduler
from orchestrator.scheduling.resume import resume_plan

DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*$")


def parse_budget(text: str, where: str = "--budget") -> float | None:
    """'15m' / '900s' / '900' / '1.5h' -> seconds; '0' or 'off' -> None (fixed repeats)."""
    if text.strip().lower() in ("off", "none", "0"):
        return None
    match = DURATION.match(text)
    if not match or float(match.group(1)) <= 0:
        raise ConfigError(f"{where} {text!r}: write a duration such as 15m, 900s or 1h (or 'off' for the "
                          "profile's fixed repeats)")
    return float(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[match.group(2)]


def more_rounds(scheduler: Scheduler, first: list[Cell], run_dir: RunDir, settings: Settings, budget_s: float,
                console: Console) -> list[CellResult]:
    """Run rounds after the first until the rule has nothing to add, the budget would be spent, or the run is
    interrupted; return the results of those rounds. The budget counts the cells' own wall-clock time (from
    their results, so a resumed run counts what it already spent), not environment builds."""
    template = {(c.environment, c.workload, c.profile): c for c in first}
    done: list[CellResult] = []
    while not (scheduler.interrupts or scheduler.not_run or scheduler.fault):  # a write fault stops the rounds too
        results = [r for r in load_cells(run_dir.path).results
                   if (r.environment.name, r.workload.name, r.workload.profile) in template]
        report = verdict.build(group_results(results), settings)
        cells = _next_cells(next_round(pair_states(report.workloads), settings.plan), results, template)
        if not cells:
            return done
        spent, timed = cell_seconds(results)
        if spent + spent / max(1, timed) * len(cells) > budget_s:
            console.print(f"sequential repeats: budget {budget_s / 60:g} min spent ({spent / 60:.1f} min in cells; "
                          f"the next round of {len(cells)} cell(s) would exceed it); undecided pairs stop here",
                          markup=False, highlight=False)
            return done
        plan = resume_plan(cells, run_dir)  # a resumed run keeps what it already has
        console.print(f"sequential repeats: {len(cells)} more cell(s) for undecided pairs (repeats "
                      f"{min(c.repeat for c in cells) + 1}-{max(c.repeat for c in cells) + 1})",
                      markup=False, highlight=False)
        ran = scheduler.run(plan.to_run)
        done += ran
        if plan.to_run and not any(r.status == "ok" for r in ran):
            console.print("sequential repeats: a whole round failed; no further rounds", markup=False,
                          highlight=False)
            break
    return done


def cell_seconds(results: list[CellResult]) -> tuple[float, int]:
    """(total wall-clock seconds, cells counted) from the cells' own start and end times."""
    total, count = 0.0, 0
    for r in results:
        if r.started_at and r.finished_at:
            try:
                seconds = (dt.datetime.fromisoformat(r.finished_at) - dt.datetime.fromisoformat(r.started_at))
            except ValueError:
                continue
            total, count = total + max(0.0, seconds.total_seconds()), count + 1
    return total, count


def _next_cells(wanted: dict[tuple[str, str, str], int], results: list[CellResult],
                template: dict[tuple[str, str, str], Cell]) -> list[Cell]:
    """The cells that bring each wanted environment x workload x profile to its target of ok repeats, at the next
    repeat indices, interleaved (repeat by repeat, environments in matrix order)."""
    cells = []
    for key, cell in template.items():
        if key not in wanted:
            continue
        mine = [r for r in results if (r.environment.name, r.workload.name, r.workload.profile) == key]
        ok = sum(1 for r in mine if r.status == "ok")
        start = max((r.workload.repeat for r in mine), default=cell.repeat) + 1
        for repeat in range(start, start + max(0, wanted[key] - ok)):
            cells.append(cell.model_copy(update={"repeat": repeat, "seed": cell.seed - cell.repeat + repeat}))
    return sorted(cells, key=lambda c: (c.workload, c.repeat))
