"""The report's "cost of Keras" section (terminal and HTML): per workload and framework, the Keras 3 backend's
steady-state time over the native one's (orchestrator/analysis/keras_cost.py), with its interval, p and verdict."""

from __future__ import annotations

from html import escape

from rich.table import Table

from orchestrator.analysis.keras_cost import KerasCost, keras_costs
from orchestrator.analysis.stats import Group
from orchestrator.analysis.verdicts.settings import Settings
from orchestrator.report.html_table import html_table

HEADERS = ("workload", "profile", "framework", "Keras 3", "native", "Keras s/epoch", "native s/epoch",
           "Keras / native [95% CI]", "p", "verdict", "test acc Keras / native")
METHOD = ("Keras 3 / native steady-state s/epoch (above 1: Keras slower): the Hodges-Lehmann ratio of the repeats "
          "with its distribution-free interval (95%, or the level the repeats reach, labelled; not adjusted), the "
          "exact two-sided rank-sum p after the sequential looks' alpha spending where the run had them, adjusted "
          "by Holm over this section's pairs; a verdict needs p <= {alpha:g} and a difference "
          "of at least {threshold:.0%} either way; both sides must pass the validity gate (no NaN loss, accuracy "
          "not at chance nor far below the other's). Native versions: workloads/native/ (docs/keras-overhead.md).")


def _num(value: float | None, fmt: str = "{:.3g}") -> str:
    return fmt.format(value) if value is not None else "-"


def _cells(row: KerasCost) -> list[str]:
    return [row.workload, row.profile, row.backend, row.keras.environment, row.native.environment,
            _num(row.keras.steady.median if row.keras.steady else None),
            _num(row.native.steady.median if row.native.steady else None), row.test.describe(),
            row.test.describe_p(), row.verdict,
            f"{_num(row.keras.test_accuracy, '{:.3f}')} / {_num(row.native.test_accuracy, '{:.3f}')}"]


def terminal_table(groups: list[Group], settings: Settings = Settings()) -> Table | None:
    """The section as a rich table; None when the run has no Keras 3 / native pair."""
    rows = keras_costs(groups, settings)
    if not rows:
        return None
    table = Table(title="The cost of Keras: Keras 3 backend / the same framework written natively",
                  caption=METHOD.format(alpha=settings.alpha, threshold=settings.tie_threshold))
    for header in HEADERS:
        table.add_column(header, overflow="fold")
    for row in rows:
        table.add_row(*_cells(row))
    return table


def html_section(groups: list[Group], settings: Settings = Settings()) -> str:
    """The section as HTML ("" when the run has no Keras 3 / native pair)."""
    rows = keras_costs(groups, settings)
    if not rows:
        return ""
    method = escape(METHOD.format(alpha=settings.alpha, threshold=settings.tie_threshold))
    return (f'<h2 id="keras-cost">The cost of Keras</h2>\n<p>{method}</p>\n'
            + html_table(HEADERS, [_cells(r) for r in rows], table_id="keras-cost-table"))
