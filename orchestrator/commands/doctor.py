"""`orchestrate doctor [--matrix FILE]`: the Docker engine, NVIDIA support, the GPUs and which environments can run
here (workflows/doctor.py)."""

from __future__ import annotations

import argparse

from rich.console import Console

from orchestrator.workflows.doctor import doctor


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("doctor", help="check the Docker engine, GPUs and which environments can run here")
    p.add_argument("--matrix", default="matrix.yaml",
                   help="matrix file (default: ./matrix.yaml, else the bundled default)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, console: Console) -> int:
    return doctor(args.matrix, console)
