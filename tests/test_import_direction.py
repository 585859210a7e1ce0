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
    ("core", {"core"}),  # errors, paths, files, clock, where the bundled files are
    ("config", {"config"}),  # the matrix: schema, load, expand, cells
    ("facts", {"results", "rundir", "measure", "store", "analysis"}),  # what was measured and what it means
    ("report", {"report"}),  # renders facts and decisions, decides nothing
    ("environments", {"environments"}),  # preparing an interpreter with its stack
    ("execution", {"execution"}),  # one cell's process: spec, slots, context, assemble
    ("runtimes", {"runtimes"}),  # how a cell's process is started: local, docker, ray
    ("scheduling", {"scheduling"}),  # the plan run on slots, progress, resume
    ("workflows", {"workflows"}),  # run, rounds, report writing, recording to the store
    ("commands", {"commands", "cli"}),  # argparse only
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
    (package / "execution").mkdir()
    (package / "execution" / "spec.py").write_text("def f():\n    from orchestrator.scheduling.scheduler import x\n")
    (package / "runtimes" / "ray.py").write_text("from orchestrator import scheduling\n")
    assert upward_imports(package) == [
        "orchestrator/execution/spec.py:2: orchestrator.execution.spec (execution) imports "
        "orchestrator.scheduling.scheduler (scheduling)",
        "orchestrator/runtimes/ray.py:1: orchestrator.runtimes.ray (runtimes) imports orchestrator.scheduling "
        "(scheduling)",
    ]


def import_graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    """module -> the orchestrator modules it imports (a package import counts as its __init__)."""
    graph: dict[str, set[str]] = {}
    for path in sorted(package.rglob("*.py")):
        graph[module_name(path, package)] = {m for _, m in imported_modules(path)}
    return {m: {i for i in deps if i in graph and i != m} for m, deps in graph.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every import cycle, each once (depth-first search over the module graph)."""
    found: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                found.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return found


def test_no_import_cycle() -> None:
    assert cycles(import_graph()) == []


def test_the_cycle_check_sees_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}
    assert cycles(graph) == [["a", "b", "c", "a"]]


def test_the_top_level_holds_only_the_cli() -> None:
    """Every room is a package: a newcomer opening orchestrator/ sees the layers, not loose modules."""
    loose = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert loose == ["__init__.py", "cli.py"]


def takes_namespace(path: Path) -> list[str]:
    """Functions in `path` with a parameter annotated argparse.Namespace."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for arg in node.args.args + node.args.kwonlyargs:
                if arg.annotation is not None and "Namespace" in ast.unparse(arg.annotation):
                    found.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}: {node.name}")
    return found


def test_only_commands_take_parsed_arguments() -> None:
    """Below the command layer a function takes plain values (a request), never argparse's Namespace."""
    outside = [p for p in PACKAGE.rglob("*.py") if "commands" not in p.relative_to(PACKAGE).parts
               and p.name != "cli.py"]
    assert [hit for p in outside for hit in takes_namespace(p)] == []


def test_scripts_and_benchmarks_call_workflows_not_commands() -> None:
    root = PACKAGE.parent
    users = [p for d in ("scripts", "benchmarks") for p in (root / d).rglob("*.py")]
    assert users, "no scripts found"
    hits = [f"{p.relative_to(root)}:{line}: {m}" for p in users for line, m in imported_modules(p)
            if m.startswith("orchestrator.commands")]
    assert hits == []


def test_analysis_modules_stay_small() -> None:
    """Each module of analysis/ holds one concern; 300 lines is the ceiling."""
    sizes = {str(p.relative_to(PACKAGE)): len(p.read_text().splitlines())
             for p in (PACKAGE / "analysis").rglob("*.py")}
    assert {name: n for name, n in sizes.items() if n > 300} == {}


def test_the_command_run_is_thin() -> None:
    assert len((PACKAGE / "commands" / "run.py").read_text().splitlines()) <= 100
