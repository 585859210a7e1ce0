"""The docs site's command reference, written from the CLI's own argparse parser so it cannot drift from it.

mkdocs.yml names this file under `hooks:`; at every `mkdocs build` / `mkdocs serve` its `on_files` adds the page
`commands.md` (not a file in docs/: it exists only in the built site), with one section per subcommand the parser
has, in the parser's order: the one-line help, then argparse's own help text (usage, arguments, options, defaults).
A subcommand added to orchestrator/cli.py appears on the next build with nothing else to change.

`python scripts/docs_commands.py` prints the same page, to read it without building the site.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = "commands.md"
WIDTH = "88"  # argparse wraps help text at $COLUMNS: fixed, so the page is the same on every machine


def cli_parser() -> argparse.ArgumentParser:
    """The parser `orchestrate` itself parses with."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))  # a checkout without the package installed
    from orchestrator import cli

    build = getattr(cli, "build_parser", None) or getattr(cli, "parser")
    return build()


def subcommands(parser: argparse.ArgumentParser) -> list[tuple[str, str, argparse.ArgumentParser]]:
    """(name, one-line help, parser) of every subcommand, in the order the parser lists them."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help or "" for a in action._choices_actions}
            seen: set[int] = set()
            found = []
            for name, sub in action.choices.items():
                if id(sub) in seen:  # an alias of a command already listed
                    continue
                seen.add(id(sub))
                found.append((name, helps.get(name, ""), sub))
            return found
    return []


def _help_text(p: argparse.ArgumentParser) -> str:
    before = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = WIDTH
    try:
        return p.format_help().rstrip()
    finally:
        if before is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = before


def _fence(text: str) -> str:
    ticks = "```"
    while ticks in text:
        ticks += "`"
    return f"{ticks}text\n{text}\n{ticks}"


def render(parser: argparse.ArgumentParser | None = None) -> str:
    """The command reference page as Markdown."""
    parser = parser or cli_parser()
    commands = subcommands(parser)
    lines = [
        "# Command reference",
        "",
        "Written at build time from the parser `orchestrate` runs with (`orchestrator/cli.py`, rendered by "
        "`scripts/docs_commands.py`), so it lists every command and option the installed code has.",
        "",
        "| command | what it does |",
        "|---|---|",
    ]
    for name, summary, _ in commands:
        lines.append(f"| [`orchestrate {name}`](#orchestrate-{name}) | {summary.replace('|', '/')} |")
    lines += ["", "## `orchestrate`", "", _fence(_help_text(parser)), ""]
    for name, summary, sub in commands:
        lines += [f"## `orchestrate {name}`", ""]
        if summary:
            lines += [summary, ""]
        lines += [_fence(_help_text(sub)), ""]
    return "\n".join(lines)


def on_files(files, config):  # mkdocs hook: add the generated page to the site's files
    from mkdocs.structure.files import File

    existing = files.get_file_from_path(PAGE)
    if existing is not None:
        files.remove(existing)
    files.append(File.generated(config, PAGE, content=render()))
    return files


if __name__ == "__main__":
    print(render())
