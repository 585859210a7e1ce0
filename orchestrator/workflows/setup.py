"""Pieces several workflows share: choosing a runtime, resolving the data directory, applying the run options
to the matrix (`--wheels`, `--price-per-hour`)."""

from __future__ import annotations

import os
from pathlib import Path

from rich.console import Console

from orchestrator.environments.layout import cache_dir
from orchestrator import runtimes
from orchestrator.core.errors import ConfigError
from orchestrator.config.load import LoadedMatrix
from orchestrator.config.schema import Price
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


def with_run_options(loaded: LoadedMatrix, wheels: str | None, price_per_hour: float | None) -> LoadedMatrix:
    """The matrix with `--wheels DIR` (existing environments' Keras) and `--price-per-hour` applied."""
    update: dict[str, object] = {}
    if wheels is not None:
        folder = Path(wheels).expanduser().resolve()
        if not folder.is_dir():
            raise ConfigError(f"--wheels {wheels}: folder not found (looked at {folder})")
        update["wheels"] = folder
    if price_per_hour is not None:
        if not 0 < price_per_hour < 10_000:
            raise ConfigError(f"--price-per-hour {price_per_hour:g}: give the machine's price per hour, above 0")
        base = loaded.matrix.price or Price(per_hour=price_per_hour, source="--price-per-hour")
        price = base.model_copy(update={"per_hour": price_per_hour, "source": "--price-per-hour"})
        update["matrix"] = loaded.matrix.model_copy(update={"price": price})
    return loaded.model_copy(update=update) if update else loaded
