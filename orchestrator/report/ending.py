"""The end of `orchestrate run` and `orchestrate report` in the terminal, the answer last on screen: the verdict
table (per workload each backend's ratio to the reference, its verdict and validity), where prediction and
generation were judged too the fastest valid backend to train, to predict and to generate, one line per decision in
plain words, what was excluded and why, and the report's path. The words are told from the decisions
analysis/verdicts made (`VerdictReport.decided`); nothing is decided here."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table

from orchestrator.analysis.ranks import CONFIDENCE
from orchestrator.analysis.verdicts.assemble import VerdictReport
from orchestrator.analysis.verdicts.family import Decision
from orchestrator.analysis.verdicts.pairs import PairTest
from orchestrator.analysis.verdicts.rows import BackendRow, WorkloadVerdict
from orchestrator.analysis.verdicts.phases import MEASURE
from orchestrator.analysis.verdicts.validity import CHANCE_EVERYWHERE, SPEED_ONLY
from orchestrator.report.sections import TO, in_order, phases_of

_VERDICT_STYLE = {"faster": "green", "slower": "red", "tie": "cyan", "no clear difference": "yellow"}
_VALID = {"accuracy": "valid", "loss": "valid (by loss)", "synthetic": "valid (synthetic)",
          "equivalence": "valid (same model)"}


def print_ending(report: VerdictReport, report_path: Path, console: Console,
                 rejected: dict[str, str] | None = None, notes: Sequence[str] = (),
                 warnings: Sequence[str] = ()) -> None:
    """The verdict table, the decisions in words, `notes` (report/choosing.py: break-even, batch-size crossover),
    `warnings` (report/fairness.py: settings that differ between the backends compared), the exclusions (backends,
    and result files ignored) and the path of report.html: the last lines a run or `orchestrate report` prints."""
    console.print(ending_table(report))
    if report.phases:
        console.print(phase_table(report))
    for line in [*decision_lines(report), *chance_notes(report), *notes]:
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    for line in [*warnings, *exclusion_lines(report, rejected or {})]:
        console.print(line, style="yellow", markup=False, highlight=False, soft_wrap=True)
    console.print(f"report: {report_path}", markup=False, highlight=False, soft_wrap=True)


def ending_table(report: VerdictReport) -> Table:
    """Per workload, one row per backend: its repeats, its time relative to the reference with the interval, the
    verdict against the reference and whether it counts."""
    what = "training time (steady s/epoch)" if report.phases else "time"
    table = Table(title=f"Verdict: each backend's {what} relative to the reference (below 1: faster)")
    for column, justify in (("workload", "left"), ("backend", "left"), ("repeats", "right"),
                            ("/ reference [95% CI]", "right"), ("verdict", "left"), ("validity", "left")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for verdict in report.workloads:
        for i, row in enumerate(verdict.rows):
            last = i == len(verdict.rows) - 1
            table.add_row(_where(verdict) if i == 0 else "", *_row_cells(row, verdict), end_section=last)
    return table


def phase_table(report: VerdictReport) -> Table:
    """Per workload, the fastest valid backend to train, to predict and to generate (the phases this report judged;
    '-' where a workload did not record one), each with how sure that is."""
    phases = phases_of(report)
    table = Table(title="Fastest valid backend per workload: " + ", ".join(TO[p] for p in phases))
    for column in ("workload", *(TO[p] for p in phases)):
        table.add_column(column)
    for verdict in report.workloads:
        cells = [report.phase(verdict.workload, verdict.profile, p) for p in phases]
        table.add_row(_where(verdict), *(v.statement(short=True, speed_only=False) if v else "-" for v in cells),
                      end_section=True)
    return table


def _row_cells(row: BackendRow, verdict: WorkloadVerdict) -> list[str]:
    vs = row.vs_reference
    repeats = f"{len(row.group.steady_samples)}/{len(row.group.results)}"
    if vs is None:
        return [row.environment, repeats, f"reference ({verdict.reference})", "-", _validity(row)]
    if not row.validity.valid:
        return [row.environment, repeats, vs.describe(), f"[dim]{vs.verdict}, not counted[/dim]", _validity(row)]
    style = _VERDICT_STYLE.get(vs.verdict)
    text = f"[{style}]{vs.verdict}[/{style}]" if style else vs.verdict
    return [row.environment, repeats, vs.describe(), text, _validity(row)]


def _validity(row: BackendRow) -> str:
    return _VALID[row.validity.gate] if row.validity.valid else "[red]excluded[/red]"


def _where(verdict: WorkloadVerdict) -> str:
    return f"{verdict.workload} ({verdict.profile})"


def decision_lines(report: VerdictReport) -> list[str]:
    """Per workload: who is fastest (or that only one backend counts), then every other decision between valid
    backends, one sentence each."""
    several = len(report.workloads) > 1
    every = report.decided
    lines = []
    for verdict in in_order(report):
        where = (f" {TO[verdict.phase]}" if report.phases else "") + (f" on {_where(verdict)}" if several else "")
        decided = [d for d in every if d.valid and (d.workload, d.profile, d.phase) == verdict.phase_key]
        if not any(d.lead for d in decided):
            lines.append(_alone(verdict, where))
        speed_only = SPEED_ONLY.get(verdict.gate, "")  # a loss-gated or synthetic workload's verdict: speed only
        lines += [decision_line(d, report.settings.tie_threshold, where) + (speed_only if d.lead else "")
                  for d in decided]
    return lines


def _alone(verdict: WorkloadVerdict, where: str) -> str:
    if verdict.fastest is None:
        return f"no backend counts{where}: none has a valid " + ("steady state" if verdict.phase == "train" else
                                                                  MEASURE[verdict.phase])
    return f"{verdict.fastest.environment} is the only backend that counts{where}"


def decision_line(d: Decision, tie_threshold: float, where: str = "") -> str:
    """One decision in plain words: 'keras3-jax is fastest: tensorflow1 takes 1.69x as long [1.38, 1.88]', 'X is
    slower than Y', 'X and Y are within 5% (tie)', 'no clear difference between X and Y (p=0.2)'."""
    return _decision_words(d, tie_threshold, where) + _aside(d)


def _aside(d: Decision) -> str:
    """'; slow repeats set aside: keras3-torch 1' where a sequential run set any aside (each replaced by one more
    repeat, within the budget)."""
    counts = [f"{env} {n}" for env, n in ((d.a, d.test.aside_a), (d.b, d.test.aside_b)) if n]
    return f"; slow repeats set aside: {', '.join(counts)}" if counts else ""


def _decision_words(d: Decision, tie_threshold: float, where: str) -> str:
    t = d.test
    if t.verdict == "tie":
        return f"{d.a} and {d.b} are within {tie_threshold:.0%}{where} (tie)"
    if t.verdict in ("faster", "slower") and t.ratio is not None and t.low is not None and t.high is not None:
        slow, fast = (d.b, d.a) if t.verdict == "slower" else (d.a, d.b)
        ratio, low, high = (t.ratio, t.low, t.high) if t.verdict == "slower" else (1 / t.ratio, 1 / t.high, 1 / t.low)
        times = f"takes {ratio:.2f}x as long [{low:.2f}, {high:.2f}]{_level(t)}"
        if d.lead and fast == d.a:
            return f"{fast} is fastest{where}: {slow} {times}"
        return f"{slow} is slower than {fast}{where}: it {times}"
    stopped = f"stopped: {d.stopped}" if d.stopped and d.stopped != "fixed repeats" else ""
    if t.verdict == "one repeat: no verdict":
        return f"{d.a} and {d.b}{where}: one repeat, no verdict ({stopped or 'run more repeats'})"
    if t.verdict == "not comparable":
        return f"{d.a} and {d.b}{where}: not comparable (no steady state on one side)"
    why = f"p={t.describe_p()}" + (f"; {stopped}" if stopped else "")
    return f"no clear difference between {d.a} and {d.b}{where} ({why})"


def _level(test: PairTest) -> str:
    """' 90%' after an interval whose achieved level is below 95% (3 repeats against 3), else ''."""
    if test.level is None or test.level >= CONFIDENCE - 1e-9:
        return ""
    return f" {math.floor(test.level * 100)}%"


def chance_notes(report: VerdictReport) -> list[str]:
    """The named note of each workload whose backends count although their accuracy is at chance on every one
    (analysis/verdicts/validity.py CHANCE_EVERYWHERE)."""
    return [f"note{_on(report, v)}: {CHANCE_EVERYWHERE}" for v in report.workloads if v.gate == "equivalence"]


def exclusion_lines(report: VerdictReport, rejected: dict[str, str]) -> list[str]:
    """One line per excluded backend (with its reasons) and per result file the run could not read."""
    lines = [f"excluded: {row.environment}{_on(report, v)}: {row.validity.describe()}{_predicts(report, v, row)}"
             for v in report.workloads for row in v.excluded]
    lines += [f"excluded: {path} (ignored: {why})" for path, why in rejected.items()]
    return lines or ["excluded: none"]


def _predicts(report: VerdictReport, verdict: WorkloadVerdict, row: BackendRow) -> str:
    """'; counted to predict (inference only)' for an environment that cannot train but timed prediction."""
    predict = report.phase(verdict.workload, verdict.profile, "predict")
    counted = predict.row(row.environment) if predict else None
    return "; counted to predict (inference only)" if counted is not None and counted.validity.valid else ""


def _on(report: VerdictReport, verdict: WorkloadVerdict) -> str:
    return f" on {_where(verdict)}" if len(report.workloads) > 1 else ""
