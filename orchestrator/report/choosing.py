"""The report's "choosing for your training" section (terminal, HTML, and lines of the run's ending): each backend's
one-off and per-step cost with the predicted total for the length asked (`--train-steps` / `--train-epochs`), where
the order of two backends changes with the length (analysis/break_even.py), and which backend is fastest at each
batch size of a `--batch-size` sweep (analysis/batch_sweep.py). Rendering only: the numbers are decided there."""

from __future__ import annotations

import math
from html import escape

from rich.table import Table

from orchestrator.analysis.batch_sweep import Sweep
from orchestrator.analysis.break_even import BreakEven, Crossover, Length, Unchanged
from orchestrator.report.html_table import html_table

METHOD = ("Predicted time for N training steps = one-off + N x per step. One-off: the recorded compile time plus "
          "the first epoch's excess over a steady epoch; per step: the steady s/epoch over the steps of an epoch "
          "(fit ms/step where the steps are unknown); import and start-up are not counted (shown apart). Each is "
          "the median over the repeats with its interval. A crossover is where two backends' lines meet, from the "
          "medians; its range puts the four costs at the ends of their intervals (as wide as they allow, not a "
          "confidence interval of its own). Lengths are in steps of this profile's batch size.")
HEADERS = ("workload", "backend", "one-off s [CI]", "per step ms [CI]", "steps/epoch", "import s (not counted)")


def about(steps: float) -> str:
    """'1,900' (two significant figures), '7', 'less than 1'."""
    if steps < 1:
        return "less than 1"
    digits = max(0, math.floor(math.log10(steps)) - 1)
    return f"{round(steps, -digits):,.0f}"


def crossover_line(c: Crossover, where: str = "") -> str:
    """'keras3-jax overtakes keras3-tensorflow after about 1,900 steps (keras3-tensorflow is faster below;
    range 1,200 to 3,400 steps from the repeats' intervals)'."""
    epochs = f", {_epochs(c.steps / c.steps_per_epoch)}" if c.steps_per_epoch and c.steps >= 1 else ""
    count = about(c.steps)
    return (f"{c.late} overtakes {c.early}{where} after about {count} step{'' if count == '1' else 's'}{epochs} "
            f"({c.early} is faster below; {_range(c)})")


def _epochs(epochs: float) -> str:
    """'about 7 epochs', 'under 1 epoch'."""
    if epochs < 1:
        return "under 1 epoch"
    text = about(epochs)
    return f"about {text} epoch{'' if text == '1' else 's'}"


def seconds(value: float) -> str:
    """'4.74 s', '106 s', '1,630 s'."""
    return f"{value:,.0f} s" if value >= 100 else f"{value:.3g} s"


def _range(c: Crossover) -> str:
    if c.low is None:
        return "one repeat: no range"
    level = f", each at least {math.floor(c.coverage * 100)}%" if c.coverage is not None else ""
    low = "the first step" if c.low < 1 else f"{about(c.low)}"
    if c.high is None:
        return (f"range {low} to never: the per-step costs' intervals overlap, so the order may not change"
                f"{level}")
    return f"range {low} to {about(c.high)} steps from the repeats' intervals{level}"


def unchanged_line(u: Unchanged, where: str = "") -> str:
    why = "same per-step cost, smaller or equal one-off" if u.equal_steps else "smaller one-off and per-step cost"
    return f"{u.faster} is faster than {u.slower}{where} at every length ({why})"


def totals_line(b: BreakEven, length: Length, where: str = "") -> str:
    """'for 500 steps (predicted): keras3-jax 3.1 s, keras3-torch 4.2 s'."""
    totals = b.totals(length)
    if totals is None:
        return f"for {length.describe()}{where}: steps per epoch unknown, no prediction (give --train-steps)"
    steps = length.steps_for(b.steps_per_epoch) or 0
    shown = f"{length.describe()} ({about(steps)} steps)" if length.steps is None else length.describe()
    return f"for {shown}{where} (predicted): " + ", ".join(f"{env} {seconds(total)}" for env, total in totals)


def _where(b: BreakEven, several: bool) -> str:
    return f" on {b.workload} ({b.profile})" if several else ""


def ending_lines(break_evens: list[BreakEven], sweeps: list[Sweep], length: Length) -> list[str]:
    """The ending's lines: with a length, per workload the predicted totals and the crossovers; the batch-size
    crossover of every sweep."""
    lines = []
    several = len(break_evens) > 1
    for b in break_evens if length.given else ():
        where = _where(b, several)
        if b.costs:
            lines.append(totals_line(b, length, where))
        lines += [crossover_line(c, where) for c in b.crossovers]
    return lines + [s.line() for s in sweeps]


def _row(b: BreakEven, length: Length) -> list[list[str]]:
    steps = length.steps_for(b.steps_per_epoch) if length.given else None
    rows = []
    for c in b.costs:
        rows.append([f"{b.workload} ({b.profile})", c.environment, c.one_off.describe(),
                     _ms(c.per_step.median, c.per_step.low, c.per_step.high, c.per_step_from),
                     str(c.steps_per_epoch or "-"), "-" if c.startup_s is None else f"{c.startup_s:.3g}",
                     *([seconds(c.total(steps)).removesuffix(" s")] if steps is not None else (["-"] if length.given else []))])
    rows += [[f"{b.workload} ({b.profile})", env, "-", "-", "-", "-", *(["-"] if length.given else []), ]
             for env in b.missing]
    return rows


def _ms(median: float, low: float | None, high: float | None, source: str) -> str:
    text = seconds(1000 * median).removesuffix(" s")
    if low is not None and high is not None:
        text += f" [{seconds(1000 * low).removesuffix(' s')}, {seconds(1000 * high).removesuffix(' s')}]"
    return text + (" (fit ms/step)" if source != "epochs" else "")


def _headers(length: Length) -> list[str]:
    return [*HEADERS, *([f"total s for {length.describe()}"] if length.given else [])]


def terminal_table(break_evens: list[BreakEven], length: Length) -> Table | None:
    """The costs per backend (with the totals for the length asked); None without any."""
    if not any(b.costs for b in break_evens):
        return None
    table = Table(title="Break-even: one-off and per-step cost per backend", caption=METHOD)
    for header in _headers(length):
        table.add_column(header, overflow="fold")
    for b in break_evens:
        for row in _row(b, length):
            table.add_row(*row)
    return table


def pair_lines(break_evens: list[BreakEven]) -> list[str]:
    """Every pair of valid backends of every workload: where their order changes, or that it never does; and the
    backends without costs."""
    several = len(break_evens) > 1
    lines = []
    for b in break_evens:
        where = _where(b, several)
        lines += [crossover_line(c, where) for c in b.crossovers]
        lines += [unchanged_line(u, where) for u in b.unchanged]
        lines += [f"{env}{where}: no break-even ({why})" for env, why in b.missing.items()]
    return lines


def html_section(break_evens: list[BreakEven], sweeps: list[Sweep], length: Length) -> str:
    """The section as HTML ("" when there is nothing to show)."""
    if not any(b.costs for b in break_evens) and not sweeps:
        return ""
    parts = ['<h2 id="choosing">Choosing for your training: length and batch size</h2>']
    if sweeps:
        items = "".join(f"<li>{escape(s.line())}</li>" for s in sweeps)
        parts.append(f'<h3>Batch size</h3>\n<ul id="batch-sweep">{items}</ul>')
    if any(b.costs for b in break_evens):
        asked = f" Length asked: {escape(length.describe())}." if length.given else \
            " No length asked (--train-steps / --train-epochs): the crossovers only."
        rows = [row for b in break_evens for row in _row(b, length)]
        parts.append(f"<h3>Break-even</h3>\n<p>{escape(METHOD)}{asked}</p>\n"
                     + html_table(_headers(length), rows, table_id="break-even"))
        lines = pair_lines(break_evens)
        totals = [totals_line(b, length, _where(b, len(break_evens) > 1)) for b in break_evens
                  if b.costs and length.given]
        parts.append('<ul id="crossovers">' + "".join(f"<li>{escape(line)}</li>" for line in totals + lines)
                     + "</ul>")
    return "\n".join(parts)
