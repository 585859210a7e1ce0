"""The store's result rows as CSV or Parquet (pyarrow, the `parquet` extra) for notebooks (`orchestrate export`)."""

from __future__ import annotations

import csv
from pathlib import Path

from rich.console import Console

from orchestrator.core.errors import ConfigError
from orchestrator.store.database import Target
from orchestrator.store.schema import RESULT_COLUMNS
from orchestrator.workflows.history import Filters, store_rows

FORMATS = ("csv", "parquet")


def export_results(target: Target, filters: Filters, fmt: str, output: str | Path | None,
                   console: Console) -> int:
    """Write the filtered rows to `output` (default: store-results.csv / .parquet); exit code 0."""
    if fmt not in FORMATS:
        raise ConfigError(f"format {fmt!r}: choose from {', '.join(FORMATS)}")
    path = Path(output or f"store-results.{fmt}")
    rows = store_rows(target, filters)
    if fmt == "csv":
        with path.open("w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(RESULT_COLUMNS))
            writer.writeheader()
            writer.writerows(rows)
    else:
        _parquet(rows, path)
    console.print(f"{len(rows)} result row(s) written to {path}", markup=False, highlight=False)
    return 0


def _parquet(rows: list[dict[str, object]], output: Path) -> None:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise ConfigError("--format parquet needs pyarrow: pip install 'orchestrator[parquet]'") from None
    table = pa.Table.from_pylist(rows, schema=None) if rows else pa.table({c: [] for c in RESULT_COLUMNS})
    pq.write_table(table, output)
