"""The summary table printed at the end of a run (rich)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from orchestrator.analysis import article
from orchestrator.report import fairness
from orchestrator.results.schema import CellResult
from orchestrator.report.sections import (
    PHASE_LABEL, STEP_TIMES, article_ordering, claim_where, has_step_times, in_order, k80_ratio, ratio_title,
    tokens_per_s, workloads_text,
)
from orchestrator.analysis.verdicts.assemble import VerdictReport
from orchestrator.analysis.verdicts.phases import MEASURE
from orchestrator.analysis.stats import Group
from orchestrator.analysis.verdicts.comparison import RunComparison
from orchestrator.analysis.verdicts.rows import WorkloadVerdict

_STATUS_STYLE = {"ok": "green", "failed": "red", "timeout": "red", "unsupported": "yellow"}


def _num(value: float | None, fmt: str = "{:.2f}") -> str:
    return fmt.format(value) if value is not None else "-"


def summary_table(results: list[CellResult], title: str = "Results") -> Table:
    table = Table(title=title)
    for column, justify in (("environment", "left"), ("workload", "left"), ("profile", "left"),
                            ("status", "left"), ("params", "right"), ("data", "left"),
                            ("compile s", "right"), ("first epoch s", "right"), ("steady s/epoch", "right"),
                            ("test acc", "right"), ("infer samples/s", "right"), ("note", "left")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for r in results:
        style = _STATUS_STYLE.get(r.status, "")
        note = r.reason or ""
        table.add_row(
            r.environment.name, r.workload.name, r.workload.profile, f"[{style}]{r.status}[/{style}]",
            f"{r.model.params:,}" if r.model.params else "-", r.data.source or "-",
            _num(r.timings.compile_s), _num(r.timings.first_epoch_s), _num(r.timings.steady_state_s),
            _num(r.metrics.test.get("accuracy"), "{:.4f}"), _num(inference_rate(r), "{:,.0f}"), note[:80],
        )
    return table


def inference_rate(result: CellResult) -> float | None:
    """Predict throughput (samples/s, steady state) of the cell's inference phase, if it ran."""
    value = (result.inference or {}).get("samples_per_s")
    return float(value) if isinstance(value, (int, float)) else None


def print_summary(results: list[CellResult], console: Console | None = None, title: str = "Results") -> None:
    console = console or Console()
    console.print(summary_table(results, title))
    console.print(fairness.terminal_table(results))


def group_table(groups: list[Group], title: str = "Repeats aggregated") -> Table:
    """One row per environment x workload x profile: median of repeats with its interval, noise, the K80's."""
    table = Table(title=title)
    on_article = article.covers(g.workload for g in groups)
    for column, justify in (("environment", "left"), ("workload", "left"), ("profile", "left"),
                            ("ok/repeats", "right"), ("steady s/epoch [CI]", "right"), ("basis", "left"),
                            ("noise", "left"), ("first epoch s", "right"), ("test acc", "right"),
                            ("time to target", "right"), *((("K80 2017 s/epoch", "right"),) if on_article else ())):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for g in groups:
        steady = g.steady
        ref = article.for_cell(g.workload, g.backend)
        noise = "-"
        if steady is not None and steady.cv is not None:
            noise = f"[yellow]noisy {steady.cv:.1%}[/yellow]" if steady.noisy else f"cv {steady.cv:.1%}"
        tta = "-"
        if g.tta:
            tta = _num(g.tta_median_s) if g.tta_median_s is not None else "not reached"
        table.add_row(
            g.environment, g.workload, g.profile, f"{len(g.ok)}/{len(g.results)}",
            steady.describe() if steady else "-", f"{steady.basis} (n={steady.n})" if steady else "-", noise,
            _num(g.first_epoch.median if g.first_epoch else None), _num(g.test_accuracy, "{:.4f}"), tta,
            *([ref.s_per_epoch_text if ref else "-"] if on_article else []),
        )
    return table


def comparison_table(comparisons: list[RunComparison], name_a: str, name_b: str) -> Table:
    table = Table(title=f"{name_b} against {name_a}: steady-state s/epoch over repeats, ratio B/A (above 1: B slower)")
    for column, justify in (("environment", "left"), ("workload", "left"), ("profile", "left"),
                            (f"A {name_a}", "right"), (f"B {name_b}", "right"), ("B/A [95% CI]", "right"),
                            ("p", "right"), ("verdict", "left")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for c in comparisons:
        a, b = c.a.steady, c.b.steady
        table.add_row(*c.key, a.describe() if a else "-", b.describe() if b else "-", c.test.describe(),
                      c.test.describe_p(), _styled(c.test.verdict))
    return table


_VERDICT_STYLE = {"faster": "green", "slower": "red", "tie": "cyan", "reproduced": "green", "refuted": "red",
                  "inconclusive": "yellow", "not run": "dim", "untestable": "dim"}


def _styled(text: str) -> str:
    style = _VERDICT_STYLE.get(text)
    return f"[{style}]{text}[/{style}]" if style else text


def verdict_table(report: VerdictReport) -> Table:
    """The answer first: per workload the fastest valid backend, its margin, and the article's ordering; where the
    report judges prediction and generation too, a row per phase (train, predict, generate)."""
    phased = bool(report.phases)
    table = Table(title="Verdict: the fastest valid backend per workload" + (" and phase" if phased else ""))
    k80 = ("K80 2017 ordering (s/epoch)",) if report.on_article else ()
    for column in ("workload", "profile", *(("phase",) if phased else ()), "fastest (valid)",
                   "runner-up / fastest [95% CI], p", "verdict", "excluded", *k80):
        table.add_column(column)
    for v in in_order(report):
        lead = v.margin
        margin = "-"
        if lead and v.runner_up:
            margin = f"{v.runner_up.environment}: {lead.describe()}"
            margin += f", p={lead.describe_p()}" if lead.p_value is not None else ""
        k80_cell = article_ordering(v.workload) if v.phase == "train" else "-"
        table.add_row(v.workload, v.profile, *([PHASE_LABEL[v.phase]] if phased else []),
                      v.fastest.environment if v.fastest else "-", margin,
                      v.statement(short=True), ", ".join(r.environment for r in v.excluded) or "-",
                      *([k80_cell] if report.on_article else []))
    return table


def ratio_table(verdict: WorkloadVerdict, article: bool = True) -> Table:
    """Every backend on one workload against the reference, with its validity (`article`: and the K80's ratio)."""
    steps = has_step_times(verdict)
    table = Table(title=f"{verdict.workload} ({verdict.profile}): time relative to {verdict.reference}",
                  caption=STEP_TIMES if steps else None)
    step_columns = ("fit ms/step", "predict ms/step") if steps else ()
    for column in ("environment", "repeats", "steady s/epoch [CI]", *step_columns, f"/ {verdict.reference} [95% CI]",
                   "p", "verdict", "test acc", "validity", *(("K80 2017 ratio",) if article else ())):
        table.add_column(column)
    for row in verdict.rows:
        vs = row.vs_reference
        steady = row.group.steady
        k80 = [_num(k80_ratio(verdict, row.environment), "{:.3g}")] if article else []
        ms = [_num(g, "{:.3g}") for g in (row.group.fit_ms_per_step, row.group.predict_ms_per_step)] if steps else []
        table.add_row(
            row.environment, f"{len(row.group.steady_samples)}/{len(row.group.results)}",
            steady.describe() if steady else "-", *ms, vs.describe() if vs else "reference",
            vs.describe_p() if vs else "-", _styled(vs.verdict) if vs else "-",
            _num(row.group.test_accuracy, "{:.4f}"),
            row.validity.describe() if row.validity.valid else f"[red]excluded: {row.validity.describe()}[/red]",
            *k80)
    return table


def phase_ratio_table(verdict: WorkloadVerdict) -> Table:
    """Prediction or generation on one workload: every backend's median time (per step, per generated token)
    against the reference, with its validity (training's, or inference only)."""
    generate = verdict.phase == "generate"
    table = Table(title=ratio_title(verdict))
    for column in ("environment", "repeats", f"{MEASURE[verdict.phase]} [CI]", *(("tokens/s",) if generate else ()),
                   f"/ {verdict.reference} [95% CI]", "p", "verdict", "validity"):
        table.add_column(column)
    for row in verdict.rows:
        vs = row.vs_reference
        table.add_row(
            row.environment, f"{len(row.samples)}/{len(row.group.results)}",
            row.estimate.describe() if row.estimate else "-",
            *([_num(tokens_per_s(verdict, row), "{:,.0f}")] if generate else []),
            vs.describe() if vs else "reference", vs.describe_p() if vs else "-", _styled(vs.verdict) if vs else "-",
            row.validity.describe() if row.validity.valid else f"[red]excluded: {row.validity.describe()}[/red]")
    return table


def ranking_table(report: VerdictReport) -> Table:
    table = Table(title="Across workloads: geometric mean of the ratios to the reference (below 1: faster)")
    for column in ("rank", "environment", "backend", "geometric mean ratio", "workloads", "fastest on"):
        table.add_column(column)
    for i, r in enumerate(report.ranks, 1):
        table.add_row(str(i), r.environment, r.backend, f"{r.geomean:.3f}", workloads_text(r), str(r.fastest_on))
    return table


def claims_table(report: VerdictReport) -> Table:
    table = Table(title="The 2017 article's claims on this machine (orderings and ratios, not seconds)")
    for column in ("workload", "claim", "source", "K80 ratio", "here: ratio [95% CI]", "status", "why"):
        table.add_column(column, overflow="fold")
    for j in report.judged_claims:
        c = j.claim
        table.add_row(claim_where(j), c.text, c.source, _num(c.article_ratio, "{:.3g}"),
                      j.test.describe() if j.test else "-", _styled(j.status), j.why)
    return table


def stopping_table(report: VerdictReport) -> Table:
    table = Table(title="Sequential repeats: per decision, the repeats it took and why it stopped")
    for column in ("workload", "pair", "repeats", "verdict", "stopped"):
        table.add_column(column)
    for row in report.stopping():
        table.add_row(*row)
    return table


def print_verdicts(report: VerdictReport, console: Console | None = None) -> None:
    """The verdict section of the terminal report: verdicts, per-workload ratios, ranking, claims."""
    console = console or Console()
    console.print(verdict_table(report))
    for verdict in in_order(report):
        console.print(ratio_table(verdict, report.on_article) if verdict.phase == "train" else
                      phase_ratio_table(verdict))
    if report.ranks:
        console.print(ranking_table(report))
    if report.judged_claims:
        console.print(claims_table(report))
    if report.settings.looks:
        console.print(stopping_table(report))
    not_run = sorted({j.claim.workload for j in report.claims if j.status == "not run"})
    if not_run and report.on_article:
        console.print(f"The article's claims on {', '.join(not_run)}: not run here (not in this run, or not both "
                      "backends).", style="dim", markup=False, highlight=False)
    console.print(report.method, style="dim", markup=False, highlight=False)
