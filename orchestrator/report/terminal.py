"""The summary table printed at the end of a run (rich)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from orchestrator.report import article, fairness
from orchestrator.results import CellResult
from orchestrator.stats import Comparison, Group

_STATUS_STYLE = {"ok": "green", "failed": "red", "timeout": "red", "unsupported": "yellow", "skipped": "dim"}


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
    """One row per environment x workload x profile: median of repeats with its 95% CI, noise, the K80's."""
    table = Table(title=title)
    for column, justify in (("environment", "left"), ("workload", "left"), ("profile", "left"),
                            ("ok/repeats", "right"), ("steady s/epoch [95% CI]", "right"), ("basis", "left"),
                            ("noise", "left"), ("first epoch s", "right"), ("test acc", "right"),
                            ("time to target", "right"), ("K80 2017 s/epoch", "right")):
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
            ref.s_per_epoch_text if ref else "-",
        )
    return table


def comparison_table(comparisons: list[Comparison], name_a: str, name_b: str) -> Table:
    table = Table(title=f"{name_b} against {name_a}: steady-state s/epoch, ratio B/A (above 1: B slower)")
    for column, justify in (("environment", "left"), ("workload", "left"), ("profile", "left"),
                            (f"A {name_a}", "right"), (f"B {name_b}", "right"), ("B/A", "right"),
                            ("95% interval", "right"), ("verdict", "left")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    styles = {"slower": "red", "faster": "green", "not comparable": "dim"}
    for c in comparisons:
        style = styles.get(c.verdict, "")
        verdict = f"[{style}]{c.verdict}[/{style}]" if style else c.verdict
        interval = f"[{c.low:.3f}, {c.high:.3f}]" if c.low is not None and c.high is not None else "-"
        table.add_row(*c.key, c.a.describe() if c.a else "-", c.b.describe() if c.b else "-",
                      _num(c.ratio, "{:.3f}"), interval, verdict)
    return table
