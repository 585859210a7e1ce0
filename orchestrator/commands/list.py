"""`orchestrate list [MATRIX]`: environments, workloads and profiles of a matrix (workflows/listing.py)."""

from __future__ import annotations

import argparse

from rich.console import Console

from orchestrator.workflows.listing import list_matrix


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("list", help="list environments, workloads and profiles")
    p.add_argument("matrix", nargs="?", default="matrix.yaml",
                   help="matrix file (default: ./matrix.yaml, else the bundled default)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, console: Console) -> int:
    return list_matrix(args.matrix, console)
