"""Pieces several commands share: choosing a runtime, resolving the data directory."""

from __future__ import annotations

import os
from pathlib import Path

from rich.console import Console

from orchestrator.environments import cache_dir
from orchestrator import runtimes
from orchestrator.errors import ConfigError
from orchestrator.matrix import LoadedMatrix
from orchestrator.runtimes.base import Runtime


def make_runtime(kind: str, loaded: LoadedMatrix, cache: str | None, console: Console) -> Runtime:
    """The runtime named by --runtime; `auto` is docker where an engine with GPUs is present, else local."""
    root = cache_dir(cache, loaded)
    log = lambda message: console.print(message, style="dim", markup=False, highlight=False)  # noqa: E731
    name, why = runtimes.resolve(kind)
    if why is not None:
        console.print(f"runtime: {name} (--runtime {kind}: {why})", markup=False, highlight=False)
    return runtimes.create_runtime(name, loaded, root, log)


def data_dir(explicit: str | None) -> Path | None:
    """--data-dir, else $ORCHESTRATE_DATA_DIR, else None (download from the canonical origins)."""
    chosen = explicit or os.environ.get("ORCHESTRATE_DATA_DIR")
    if not chosen:
        return None
    path = Path(chosen).expanduser().resolve()
    if not path.is_dir():
        what = "is a file, not a folder" if path.exists() else "does not exist"
        raise ConfigError(f"data directory {path} (from --data-dir or ORCHESTRATE_DATA_DIR) {what}")
    return path
