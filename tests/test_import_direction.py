"""The data flow runs one way: no module imports from a layer above its own (docs/architecture.md).

Every `import orchestrator...` / `from orchestrator... import` in the package is read with `ast`, those inside
functions too (a lazy import is still an arrow), and checked against the layers below, lowest first.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "orchestrator"

# Lowest first. A module may import from its own layer and the layers below it.
LAYERS: list[tuple[str, set[str]]] = [
    ("facts", {"errors", "paths", "results", "host", "stats", "verdicts", "energy", "overlay", "workload_files", "gpus",
               "analysis",
               "interpreters"}),
    ("definitions", {"matrix", "slots", "environments", "images", "prepared", "existing", "cost"}),
    ("cells", {"cell_process", "monitor", "cells"}),
    ("runtimes", {"runtimes"}),
    ("scheduler", {"scheduler", "progress"}),
    ("commands", {"commands", "report", "cli"}),
]


def layer_of(module: str) -> int:
    """The layer of `orchestrator.a.b` (by its first part below the package)."""
    parts = module.split(".")
    head = parts[1] if len(parts) > 1 else ""
    for rank, (_, names) in enumerate(LAYERS):
        if head in names:
            return rank
    raise AssertionError(f"{module} is in no layer of tests/test_import_direction.py: add it to LAYERS")


def module_name(path: Path, package: Path) -> str:
    rel = path.relative_to(package.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import of an orchestrator module in `path`."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names if alias.name.startswith("orchestrator")]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "orchestrator":  # from orchestrator import stats
                found += [(node.lineno, f"orchestrator.{alias.name}") for alias in node.names]
            elif node.module.startswith("orchestrator."):
                found.append((node.lineno, node.module))
    return found


def upward_imports(package: Path = PACKAGE) -> list[str]:
    problems = []
    for path in sorted(package.rglob("*.py")):
        importer = module_name(path, package)
        if importer == "orchestrator":
            continue
        own = layer_of(importer)
        for line, imported in imported_modules(path):
            if layer_of(imported) > own:
                problems.append(f"{path.relative_to(package.parent)}:{line}: {importer} "
                                f"({LAYERS[own][0]}) imports {imported} ({LAYERS[layer_of(imported)][0]})")
    return problems


def test_no_module_imports_from_a_higher_layer() -> None:
    assert upward_imports() == []


def test_the_check_sees_an_upward_import(tmp_path: Path) -> None:
    """The check itself can fail: a cells-layer module importing the scheduler is caught, lazy or not."""
    package = tmp_path / "orchestrator"
    (package / "runtimes").mkdir(parents=True)
    (package / "cells.py").write_text("def f():\n    from orchestrator.scheduler import failure_result\n")
    (package / "runtimes" / "ray.py").write_text("from orchestrator import scheduler\n")
    assert upward_imports(package) == [
        "orchestrator/cells.py:2: orchestrator.cells (cells) imports orchestrator.scheduler (scheduler)",
        "orchestrator/runtimes/ray.py:1: orchestrator.runtimes.ray (runtimes) imports orchestrator.scheduler (scheduler)",
    ]
