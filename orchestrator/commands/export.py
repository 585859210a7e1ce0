"""`orchestrate export`: the store's result rows as CSV or Parquet (pyarrow, the `parquet` extra) for notebooks."""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from rich.console import Console

from orchestrator.workflows.record import add_store_option, store_target
from orchestrator.commands.history import add_filter_options
from orchestrator.core.errors import ConfigError
from orchestrator.store.database import Store
from orchestrator.store.schema import RESULT_COLUMNS
from orchestrator.store.series import matches_host


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="write the store's results as CSV or Parquet")
    p.add_argument("--format", choices=["csv", "parquet"], default="csv")
    p.add_argument("--output", "-o", default=None, metavar="PATH", help="default: store-results.csv / .parquet")
    add_filter_options(p)
    add_store_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace, console: Console) -> int:
    output = Path(args.output or f"store-results.{args.format}")
    with Store(store_target(args)) as store:
        rows = [r for r in store.results(environment=args.env, workload=args.workload, profile=args.profile)
                if matches_host(r, args.host)]
    if args.format == "csv":
        with output.open("w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(RESULT_COLUMNS))
            writer.writeheader()
            writer.writerows(rows)
    else:
        _parquet(rows, output)
    console.print(f"{len(rows)} result row(s) written to {output}", markup=False, highlight=False)
    return 0


def _parquet(rows: list[dict[str, object]], output: Path) -> None:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise ConfigError("--format parquet needs pyarrow: pip install 'orchestrator[parquet]'") from None
    table = pa.Table.from_pylist(rows, schema=None) if rows else pa.table({c: [] for c in RESULT_COLUMNS})
    pq.write_table(table, output)
