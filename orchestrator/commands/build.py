"""`orchestrate build [ENV ...]`: prepare environments (reused at once when nothing changed; workflows/build.py)."""

from __future__ import annotations

import argparse

from rich.console import Console

from orchestrator.workflows.build import build_environments


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("build", help="build (or reuse) environments")
    p.add_argument("environments", nargs="*", metavar="ENV", help="environments to build (default: all)")
    p.add_argument("--matrix", default="matrix.yaml",
                   help="matrix file (default: ./matrix.yaml, else the bundled default)")
    p.add_argument("--runtime", default="auto", help="auto | local | docker (auto: docker if an engine with GPUs is here)")
    p.add_argument("--cache-dir", default=None,
                   help="where environments are built (default: as `orchestrate run --help` says)")
    p.add_argument("--force", action="store_true", help="rebuild even when nothing changed")
    p.add_argument("--wheels", default=None, metavar="DIR",
                   help="wheels for existing environments (build: none) that lack Keras: a private overlay")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, console: Console) -> int:
    return build_environments(args.matrix, args.environments, console, runtime=args.runtime,
                              cache_dir=args.cache_dir, force=args.force, wheels=args.wheels)
