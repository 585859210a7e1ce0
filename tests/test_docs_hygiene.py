"""The documentation stays true to the checkout.

- No tracker numbers ("issue 22", "(issue 4)", "issue-3") in the docs, the code's comments and docstrings, the
  matrix or the requirements: a sentence says what the thing does, not which ticket brought it.
- Every `orchestrator/....py` file and `orchestrator/<package>/` folder the README and docs/ name exists.
- Every module of the package is named in docs/architecture.md, so the picture cannot drift from the tree.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "orchestrator"
ARCHITECTURE = ROOT / "docs" / "architecture.md"
THIS = Path(__file__).resolve()

ISSUE = re.compile(r"\bissues?[ \t]?#?\d+\b|\bissue-\d+\b", re.IGNORECASE)

# Where tracker numbers must not appear (paths relative to the checkout; a folder covers what is under it).
SCANNED = ("README.md", "docs/", "orchestrator/", "workloads/", "scripts/", "benchmarks/", "tests/", "examples/",
           "docker/", "matrix.yaml", "requirements/", "pyproject.toml")
SKIPPED_PARTS = {".git", ".venv", "results", "__pycache__", "node_modules"}

# Named by the docs as part of the layout, being added alongside this test.
BEING_ADDED = {
    "orchestrator/environments/venv.py",
    "orchestrator/environments/pins.py",
    "orchestrator/report/html_table.py",
    "orchestrator/core/protocol.py",
    "orchestrator/workflows/run.py",
}


# --- helpers, each tested below on small strings ------------------------------------------------------------------


def issue_mentions(text: str) -> list[tuple[int, str]]:
    """(line number, matched text) of every tracker number in `text`."""
    return [(text.count("\n", 0, m.start()) + 1, m.group(0)) for m in ISSUE.finditer(text)]


def expand_braces(text: str) -> list[str]:
    """`a/{b,c}.py` -> [`a/b.py`, `a/c.py`] (one brace group at a time, nested groups expanded in turn)."""
    m = re.search(r"\{([^{}]*)\}", text)
    if not m:
        return [text]
    return [x for alt in m.group(1).split(",") for x in expand_braces(text[:m.start()] + alt + text[m.end():])]


PATH_TOKEN = re.compile(r"(?<![\w./-])orchestrator/[\w/{},.]*")


def package_paths(text: str) -> set[str]:
    """Every `orchestrator/....py` file and `orchestrator/<folder>/` path written in `text`, braces expanded."""
    found: set[str] = set()
    for m in PATH_TOKEN.finditer(text):
        token = m.group(0)
        if token.count("{") != token.count("}"):  # a brace group cut off at a character the token does not take
            token = token[:token.index("{")] if "{" in token else token
        for path in expand_braces(token):
            path = path.rstrip(".,")
            if path.endswith(".py"):
                found.add(path)
            elif "/" in path:
                found.add(path[: path.rindex("/") + 1])  # the folder part: orchestrator/x/ of orchestrator/x/y
    return {p for p in found if p != "orchestrator/"}


def missing_paths(text: str, root: Path, allowed: set[str] = frozenset()) -> list[str]:
    """The package paths named in `text` that do not exist under `root` (and are not `allowed`)."""
    return sorted(p for p in package_paths(text) if p not in allowed and not (root / p).exists())


def named(module: str, text: str) -> bool:
    """Whether `text` names `module` (a path relative to orchestrator/, e.g. `config/load.py`), alone or after
    `orchestrator/`, not as the tail of a longer path (`verdicts/assemble.py` does not name `assemble.py`)."""
    candidates = [module]
    if module.endswith("/__init__.py"):
        candidates.append(module[: -len("__init__.py")])  # the package folder names its __init__
    for name in candidates:
        if re.search(r"(?<![\w./-])(?:orchestrator/)?" + re.escape(name) + r"(?![\w])", text):
            return True
    return False


def unnamed_modules(package: Path, text: str) -> list[str]:
    modules = sorted(str(p.relative_to(package)) for p in package.rglob("*.py") if "__pycache__" not in p.parts)
    return [m for m in modules if m != "__init__.py" and not named(m, text)]


def checkout_files(root: Path = ROOT) -> list[Path]:
    """The checkout's files (tracked, or new and not ignored); without git, a walk that skips caches and results."""
    try:
        out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=root,
                             capture_output=True, check=True, timeout=60).stdout.decode()
        files = [root / name for name in out.split("\0") if name]
    except (OSError, subprocess.SubprocessError):
        files = [p for p in root.rglob("*") if p.is_file()]
    return [p for p in files if p.is_file()
            and not any(part in SKIPPED_PARTS or part.startswith(".orchestrate") for part in p.relative_to(root).parts)]


def scanned(path: Path, root: Path = ROOT) -> bool:
    rel = path.relative_to(root).as_posix()
    return any(rel == s or (s.endswith("/") and rel.startswith(s)) for s in SCANNED)


def read_text(path: Path) -> str | None:
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if b"\0" in data[:8192]:
        return None  # binary
    return data.decode("utf-8", errors="replace")


def doc_files(root: Path = ROOT) -> list[Path]:
    return [root / "README.md", *sorted((root / "docs").glob("*.md"))]


# --- the checks ---------------------------------------------------------------------------------------------------


def test_no_issue_numbers_in_docs_code_or_config() -> None:
    hits = []
    for path in checkout_files():
        if path.resolve() == THIS or not scanned(path):
            continue
        text = read_text(path)
        if text is None:
            continue
        hits += [f"{path.relative_to(ROOT)}:{line}: {match}" for line, match in issue_mentions(text)]
    assert hits == [], "say what the code or text does instead of naming a tracker issue:\n" + "\n".join(hits)


def test_package_paths_in_the_docs_exist() -> None:
    problems = [f"{doc.relative_to(ROOT)}: {p}" for doc in doc_files()
                for p in missing_paths(doc.read_text(), ROOT, BEING_ADDED)]
    assert problems == [], "the docs name paths the checkout does not have:\n" + "\n".join(problems)


def test_every_module_is_named_in_the_architecture() -> None:
    missing = unnamed_modules(PACKAGE, ARCHITECTURE.read_text())
    assert missing == [], "docs/architecture.md does not name: " + ", ".join(missing)


# --- each check can fail ------------------------------------------------------------------------------------------


def test_issue_pattern_sees_each_form_and_spares_plain_words() -> None:
    text = ("## The article's backends (issue 4)\nbefore issue 22, see Issue #7 and issues 3\n"
            "the issue-3 targets\nissue22\n"
            "an issue with the driver; tissue 5; github.com/a/b/issues/12; reissue 3\n")
    assert issue_mentions(text) == [(1, "issue 4"), (2, "issue 22"), (2, "Issue #7"), (2, "issues 3"),
                                    (3, "issue-3"), (4, "issue22")]


def test_the_scan_covers_docs_code_and_config(tmp_path: Path) -> None:
    for rel in ("README.md", "docs/a.md", "orchestrator/x/y.py", "tests/t.py", "matrix.yaml", "requirements/r.txt"):
        assert scanned(tmp_path / rel, tmp_path), rel
    assert not scanned(tmp_path / "LICENSE", tmp_path)
    assert scanned(THIS), "this test lies in a scanned folder; it is left out by name only"


def test_brace_expansion() -> None:
    assert expand_braces("orchestrator/commands/{build,run}.py") == ["orchestrator/commands/build.py",
                                                                     "orchestrator/commands/run.py"]
    assert expand_braces("a/{b,c}/{d,e}") == ["a/b/d", "a/b/e", "a/c/d", "a/c/e"]


def test_missing_paths_are_found(tmp_path: Path) -> None:
    (tmp_path / "orchestrator" / "config").mkdir(parents=True)
    (tmp_path / "orchestrator" / "config" / "load.py").write_text("")
    text = ("`orchestrator/config/load.py`, `orchestrator/matrix.py`, (orchestrator/results.py). "
            "`orchestrator/config/`, `orchestrator/report/` and `orchestrator/commands/{run,list}.py`; "
            "orchestrator/environments/venv.py; my_orchestrator/elsewhere.py; `orchestrator.results.CellResult`")
    assert missing_paths(text, tmp_path, {"orchestrator/environments/venv.py"}) == [
        "orchestrator/commands/list.py", "orchestrator/commands/run.py", "orchestrator/matrix.py",
        "orchestrator/report/", "orchestrator/results.py"]


def test_unnamed_modules_are_found(tmp_path: Path) -> None:
    package = tmp_path / "orchestrator"
    for rel in ("__init__.py", "cli.py", "core/__init__.py", "core/paths.py", "execution/assemble.py",
                "analysis/verdicts/assemble.py", "report/html.py"):
        (package / rel).parent.mkdir(parents=True, exist_ok=True)
        (package / rel).write_text("")
    text = ("| `cli.py` | ... |\n| `core/` | the package |\n| `orchestrator/core/paths.py` | ... |\n"
            "| `analysis/verdicts/assemble.py` | ... |\n| `report/html.pyc` |\n")
    assert unnamed_modules(package, text) == ["execution/assemble.py", "report/html.py"]
