"""Reading a run's results back: every cell file validated against the schema, the unreadable ones named; the
summary written from them."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ValidationError

from orchestrator.core.errors import ResultsError
from orchestrator.core.files import write_json_atomic
from orchestrator.results.schema import SCHEMA_VERSION, CellResult
from orchestrator.rundir.layout import RunDir


class LoadReport(BaseModel):
    results: list[CellResult]
    rejected: dict[str, str]


def load_cells(run_path: Path) -> LoadReport:
    """Every readable, schema-valid cell result of a run; the others listed with the reason."""
    results: list[CellResult] = []
    rejected: dict[str, str] = {}
    for path in sorted((Path(run_path) / "cells").glob("*.json")):
        try:
            results.append(read_cell(path))
        except ResultsError as exc:
            rejected[str(path)] = str(exc)
    return LoadReport(results=results, rejected=rejected)


def read_cell(path: Path) -> CellResult:
    try:
        raw = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise ResultsError(f"{path}: unreadable ({exc})") from None
    if not isinstance(raw, dict):
        raise ResultsError(f"{path}: not a JSON object")
    if raw.get("schema_version") != SCHEMA_VERSION:
        raise ResultsError(f"{path}: schema_version {raw.get('schema_version')!r}, expected {SCHEMA_VERSION}")
    try:
        return CellResult.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise ResultsError(f"{path}: does not match the CellResult schema at {loc}: {first['msg']}") from None


def write_summary(run_dir: RunDir) -> LoadReport:
    """Merge the run's cell files into summary.json (invalid files are reported, not merged)."""
    report = load_cells(run_dir.path)
    write_json_atomic(
        run_dir.summary_path,
        {
            "schema_version": SCHEMA_VERSION,
            "run_id": run_dir.run_id,
            "cells": [r.model_dump(mode="json") for r in report.results],
            "rejected": report.rejected,
        },
    )
    return report
