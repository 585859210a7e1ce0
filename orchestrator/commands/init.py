"""`orchestrate init [DIR]`: write a `matrix.yaml` (the default comparison) and an example model to edit into DIR
(workflows/init.py); existing files are never overwritten."""

from __future__ import annotations

import argparse

from rich.console import Console

from orchestrator.workflows.init import init_project


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("init", help="write a matrix.yaml and an example model (my_model.py) into a folder",
                       description="Write DIR/matrix.yaml (a copy of the default comparison whose paths point at "
                                   "the orchestrator's own files) and DIR/my_model.py (an example model to edit). "
                                   "An existing file is never overwritten (exit 2).")
    p.add_argument("folder", nargs="?", default=".", metavar="DIR", help="the folder (default: the current one; "
                                                                         "made if missing)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, console: Console) -> int:
    return init_project(args.folder, console)
