"""A run's identity beyond its id: `run.json` in its folder holds a random `instance` id and when it was created.

It is written when a run starts in a folder that has none and holds no result yet, and on demand when the first cell
is written. `--resume` keeps the folder and so the instance; `--fresh` moves the whole folder (this file with it)
aside to `<run-id>.N`, so the new run gets a new instance and the store keeps both runs (store/records.py
`run_key`). A folder of results written before instances existed has none and is given none: its run key stays
what it was, so importing it again adds nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path

from orchestrator.core.files import write_json_atomic

INSTANCE_FILE = "run.json"


def read_instance(run_path: Path) -> str | None:
    """The folder's instance id; None when it has no readable `run.json` (a run from before instances existed)."""
    try:
        data = json.loads((Path(run_path) / INSTANCE_FILE).read_text())
    except (OSError, ValueError):
        return None
    instance = data.get("instance") if isinstance(data, dict) else None
    return instance if isinstance(instance, str) and instance else None


def start_instance(run_path: Path) -> str | None:
    """The folder's instance id, written first when it has none and holds no result yet (a new run, or the new
    run after `--fresh`); None for a folder of earlier results without one (it keeps its old run key)."""
    run_path = Path(run_path)
    instance = read_instance(run_path)
    if instance is not None or _has_results(run_path):
        return instance
    instance = uuid.uuid4().hex
    created = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    write_json_atomic(run_path / INSTANCE_FILE, {"instance": instance, "created_at": created})
    return instance


def _has_results(run_path: Path) -> bool:
    """Whether the folder holds a result file (valid or not; temporary files of cut-short writes are not)."""
    cells = run_path / "cells"
    return cells.is_dir() and any(not p.name.startswith(".") for p in cells.glob("*.json"))
