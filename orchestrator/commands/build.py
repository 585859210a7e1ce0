"""`orchestrate build [ENV ...]`: prepare environments (reused at once when nothing changed)."""

from __future__ import annotations

import argparse

from rich.console import Console

from orchestrator.workflows.setup import make_runtime, with_run_options
from orchestrator.core.errors import ConfigError, OrchestratorError
from orchestrator.config.load import load_matrix


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("build", help="build (or reuse) environments")
    p.add_argument("environments", nargs="*", metavar="ENV", help="environments to build (default: all)")
    p.add_argument("--matrix", default="matrix.yaml", help="matrix file (default: matrix.yaml)")
    p.add_argument("--runtime", default="auto", help="auto | local | docker (auto: docker if an engine with GPUs is here)")
    p.add_argument("--cache-dir", default=None, help="project cache directory (default: .orchestrate beside the matrix)")
    p.add_argument("--force", action="store_true", help="rebuild even when nothing changed")
    p.add_argument("--wheels", default=None, metavar="DIR",
                   help="wheels for existing environments (build: none) that lack Keras: a private overlay")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, console: Console) -> int:
    loaded = with_run_options(load_matrix(args.matrix), args.wheels, None)
    names = args.environments or list(loaded.matrix.environments)
    unknown = [n for n in names if n not in loaded.matrix.environments]
    if unknown:
        raise ConfigError(f"unknown environment {', '.join(unknown)}; choose from: "
                          f"{', '.join(loaded.matrix.environments)} (in {loaded.path})")
    runtime = make_runtime(args.runtime, loaded, args.cache_dir, console)
    runtime.prepare_host(names)  # system packages installed, or exit 2 with the command to run, before any build
    failures = 0
    for name in names:
        try:
            prepared = runtime.prepare(name, force=args.force)
        except OrchestratorError as exc:
            failures += 1
            console.print(f"[red]{name}: build failed[/red]\n{exc}")
            continue
        state = "reused" if prepared.reused else "built"
        image = f", image {prepared.image}" if prepared.image else ""
        console.print(f"[green]{name}[/green]: {state} ({prepared.env_hash}, Python {prepared.python_version}{image})")
    return 1 if failures else 0
