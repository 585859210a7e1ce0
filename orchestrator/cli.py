"""`orchestrate`: parse arguments, call the command's run(), print errors without tracebacks."""

from __future__ import annotations

import argparse
import sys

from rich.console import Console

from orchestrator.commands import build, doctor, list as list_cmd, run
from orchestrator.commands import compare, report
from orchestrator.commands import export, history, import_runs, store
from orchestrator.commands import init
from orchestrator.core.errors import OrchestratorError, StoreError
from orchestrator.core.redaction import redact

COMMANDS = (init, build, run, list_cmd, doctor, report, compare, history, import_runs, export, store)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="orchestrate",
        description="Which deep-learning framework is fastest behind Keras, for my kind of model?",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(sub)
    return p


def _console(stderr: bool = False) -> Console:
    """A console that keeps tables readable when output goes to a file or CI log (no terminal width)."""
    probe = Console(stderr=stderr)
    return probe if probe.is_terminal else Console(stderr=stderr, width=160)


def main(argv: list[str] | None = None) -> int:
    console = _console()
    err = _console(stderr=True)
    try:
        args = parser().parse_args(argv)  # the option types of commands/_options.py raise ConfigError
        return args.func(args, console)
    except StoreError as exc:  # the store cannot be reached, locked or read (docs/history.md: exit codes)
        err.print(f"error: {redact(str(exc))}", style="red", markup=False, highlight=False, soft_wrap=True)
        return 3
    except OrchestratorError as exc:
        err.print(f"error: {redact(str(exc))}", style="red", markup=False, highlight=False,
                  soft_wrap=True)  # paths unbroken; a URL's password never shown
        return 2
    except KeyboardInterrupt:
        err.print("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
