"""Cost per result: the machine's price per hour (matrix `price`, or `orchestrate run --price-per-hour`) turned
into money per steady-state epoch, per run of the cell (its whole process: start, data, compile, epochs,
inference) and per 1,000 training samples, beside the times."""

from __future__ import annotations

from typing import Any

from orchestrator.config.schema import Price
from orchestrator.results.schema import CellResult
from orchestrator.rundir.layout import RunDir


def cell_cost(result: CellResult, price: Price) -> dict[str, Any]:
    """`CellResult.cost` for one result."""
    per_second = price.per_hour / 3600.0
    t = result.timings

    def money(seconds: float | None) -> float | None:
        return round(seconds * per_second, 8) if seconds else None

    return {
        "per_hour": price.per_hour,
        "currency": price.currency,
        "machine": price.machine or None,
        "source": price.source or None,
        "per_epoch": money(t.steady_state_s),
        "per_run": money(t.process_s),
        "per_1k_samples": money(1000.0 / t.samples_per_s) if t.samples_per_s else None,
    }


def record_costs(run_dir: RunDir, results: list[CellResult], price: Price | None) -> list[CellResult]:
    """The results with their cost, each rewritten (atomically) in the run's folder; unchanged without a price."""
    if price is None:
        return results
    priced = [r.model_copy(update={"cost": cell_cost(r, price)}) for r in results]
    for result in priced:
        run_dir.write_cell(result)
    return priced
