"""The front door and the docs site.

- README.md is a front door, not a lab notebook: at most 150 lines, and its first code block holds the two
  commands that work on a fresh clone (set up and run the main job; set up and run the tests, which .ci/run calls).
- `mkdocs build --strict` succeeds (no broken link, no page missing from the navigation, no nav entry without
  its page), the home page is built, and the command reference, generated at build time from the CLI's argparse
  parser (scripts/docs_commands.py), has a section for every subcommand the parser has.
- The built home page renders in headless Chromium: a heading, the verdict table, a non-trivial screenshot.
"""

from __future__ import annotations

import importlib.util
import os
import re
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from headless_chromium import Chromium

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


def _docs_commands():
    spec = importlib.util.spec_from_file_location("docs_commands", ROOT / "scripts" / "docs_commands.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


docs_commands = _docs_commands()


# --- the README -------------------------------------------------------------------------------------------------


def first_code_block(text: str) -> str:
    m = re.search(r"^```[^\n]*\n(.*?)^```", text, re.S | re.M)
    return m.group(1) if m else ""


def test_readme_is_at_most_150_lines() -> None:
    lines = README.read_text().count("\n")
    assert lines <= 150, f"README.md has {lines} lines: move detail into docs/ and link to it"


def test_readme_first_code_block_holds_the_two_commands() -> None:
    block = first_code_block(README.read_text())
    commands = [line.split("#")[0].strip() for line in block.splitlines() if line.split("#")[0].strip()]
    assert any(re.fullmatch(r"scripts/bootstrap\.sh && \.venv/bin/orchestrate run matrix\.yaml\b.*", c)
               for c in commands), block
    assert "bash scripts/test.sh" in commands, block
    ci = (ROOT / ".ci" / "run").read_text() if (ROOT / ".ci" / "run").exists() else "bash scripts/test.sh"
    assert "bash scripts/test.sh" in ci, "CI must run the README's test command"


def test_first_code_block_helper() -> None:
    assert first_code_block("# t\n\ntext\n```bash\na\nb\n```\n```\nc\n```\n") == "a\nb\n"
    assert first_code_block("no code") == ""


# --- the command reference --------------------------------------------------------------------------------------


def test_the_command_reference_names_every_subcommand_of_the_parser() -> None:
    parser = docs_commands.cli_parser()
    names = [name for name, _, _ in docs_commands.subcommands(parser)]
    assert {"run", "report", "compare", "history"} <= set(names)
    page = docs_commands.render(parser)
    for name in names:
        assert f"## `orchestrate {name}`" in page, name
        assert f"usage: orchestrate {name}" in page, name


def test_a_new_subcommand_appears_without_touching_the_generator() -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="orchestrate")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("run", help="run a matrix")
    frob = sub.add_parser("frobnicate", help="a command added later", aliases=["frob"])
    frob.add_argument("--level", type=int, default=3, help="how much (default: %(default)s)")
    page = docs_commands.render(parser)
    assert "## `orchestrate frobnicate`" in page and "a command added later" in page
    assert "--level LEVEL" in page and "how much (default: 3)" in page
    assert "## `orchestrate frob`" not in page  # an alias is not a second command


# --- the site ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("docs") / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file",
                           str(ROOT / "mkdocs.yml"), "--site-dir", str(out)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{proc.stdout}\n{proc.stderr}"
    assert "WARNING" not in proc.stderr, proc.stderr
    return out


def test_strict_build_has_the_home_page_and_every_page_of_the_nav(site: Path) -> None:
    home = site / "index.html"
    assert home.is_file()
    assert "Which deep-learning framework is fastest behind Keras" in home.read_text()
    for page in ("quickstart", "your-model", "article", "modern-results", "keras-overhead", "statistics",
                 "history", "local", "docker", "ray", "gpu", "faults", "shared-machines", "results-schema",
                 "architecture", "commands"):
        assert (site / f"{page}.html").is_file(), page


def test_built_command_reference_lists_every_subcommand(site: Path) -> None:
    html = (site / "commands.html").read_text()
    for name, _, _ in docs_commands.subcommands(docs_commands.cli_parser()):
        assert f'id="orchestrate-{name}"' in html, f"orchestrate {name} is missing from the command reference"


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", data[16:24])


def test_home_page_renders_in_headless_chromium(site: Path, tmp_path: Path) -> None:
    with Chromium(tmp_path / "chromium-profile") as browser:
        browser.open((site / "index.html").as_uri())
        seen = browser.evaluate("""({
            h1: document.querySelector('article h1, h1')?.innerText.trim(),
            rows: document.querySelectorAll('article table tr').length,
            nav: [...document.querySelectorAll('nav a')].map(a => a.innerText.trim()).filter(Boolean).length,
        })""")
        shot = browser.screenshot(tmp_path / "home.png", max_height=1600)
    assert seen["h1"] and seen["h1"].startswith("orchestrate"), seen
    assert seen["rows"] >= 8, seen  # the verdict table: a header and seven backends
    assert seen["nav"] >= 10, seen
    width, height = png_size(shot)
    assert width >= 800 and height >= 600, (width, height)
    assert shot.stat().st_size > 20_000, "a near-empty screenshot"


def test_the_checked_in_screenshot_is_a_png() -> None:
    width, height = png_size(ROOT / "docs" / "images" / "home.png")
    assert width >= 800 and height >= 400
