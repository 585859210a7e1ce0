"""Preparing environments ahead of a run (`orchestrate build`): reused at once when nothing changed."""

from __future__ import annotations

from rich.console import Console

from orchestrator.config.load import load_matrix
from orchestrator.core.workload_files import matrix_file
from orchestrator.core.errors import ConfigError, OrchestratorError
from orchestrator.workflows.setup import make_runtime, with_run_options

BUILD_FAILED_EXIT = 1


def build_environments(matrix: str, names: list[str], console: Console, runtime: str = "auto",
                       cache_dir: str | None = None, force: bool = False, wheels: str | None = None) -> int:
    """Build (or reuse) the environments `names` of `matrix` (empty: all) on `runtime`; the exit code
    (BUILD_FAILED_EXIT when one failed, else 0). force: rebuild even when nothing changed."""
    loaded = with_run_options(load_matrix(matrix_file(matrix)), wheels, None)
    chosen = names or list(loaded.matrix.environments)
    unknown = [n for n in chosen if n not in loaded.matrix.environments]
    if unknown:
        raise ConfigError(f"unknown environment {', '.join(unknown)}; choose from: "
                          f"{', '.join(loaded.matrix.environments)} (in {loaded.path})")
    built_by = make_runtime(runtime, loaded, cache_dir, console)
    built_by.prepare_host(chosen)  # system packages installed, or exit 2 with the command to run, before any build
    failures = 0
    for name in chosen:
        try:
            prepared = built_by.prepare(name, force=force)
        except OrchestratorError as exc:
            failures += 1
            console.print(f"[red]{name}: build failed[/red]\n{exc}")
            continue
        state = "reused" if prepared.reused else "built"
        image = f", image {prepared.image}" if prepared.image else ""
        console.print(f"[green]{name}[/green]: {state} ({prepared.env_hash}, Python {prepared.python_version}{image})")
    return BUILD_FAILED_EXIT if failures else 0
