"""Check a user's model file before any environment is built: it exists, parses, and defines the contract.

The contract (docs/your-model.md) is the built-in workloads': `load(spec)` and `build(spec, data)`, optional
`fit`, `evaluate` and `inference_inputs`. The file is read with `ast`, never imported here: it imports Keras,
which lives only in the environments. Module-level `EPOCHS` / `BATCH_SIZE` literals give its defaults.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from orchestrator.core.errors import ConfigError

REQUIRED = {"load": "load(spec)", "build": "build(spec, data)"}
OPTIONAL = ("fit", "evaluate", "inference_inputs")


@dataclass(frozen=True)
class ScriptInfo:
    """What a model file declares, as read without running it."""

    path: Path
    functions: tuple[str, ...]  # names bound at module level
    epochs: int | None = None
    batch_size: int | None = None
    description: str = ""


def check_script(path: Path, where: str) -> ScriptInfo:
    """Refuse a missing file, a syntax error or a missing loader/builder, naming the file and what to do.

    `where` names the origin in messages: `--model` or `matrix.yaml: workloads.x.script`.
    """
    if not path.is_file():
        what = "is a folder, not a Python file" if path.is_dir() else "not found"
        raise ConfigError(f"{where}: model file {path} {what}")
    try:
        tree = ast.parse(path.read_text(errors="replace"), str(path))
    except SyntaxError as exc:
        line = (exc.text or "").rstrip()
        raise ConfigError(f"{where}: {path}:{exc.lineno}: syntax error: {exc.msg}"
                          + (f"\n    {line}" if line else "") + "\nfix the file and run again") from None
    functions = _module_names(tree)
    missing = [signature for name, signature in REQUIRED.items() if name not in functions]
    if missing:
        raise ConfigError(f"{where}: {path} defines no {' and no '.join(missing)} function at module level; "
                          f"a model file needs `def load(spec)` returning (data, info) and `def build(spec, data)` "
                          f"returning a compiled Keras model (docs/your-model.md)")
    constants = _int_constants(tree)
    return ScriptInfo(path=path, functions=functions, epochs=constants.get("EPOCHS"),
                      batch_size=constants.get("BATCH_SIZE"), description=_first_line(ast.get_docstring(tree)))


def _module_names(tree: ast.Module) -> tuple[str, ...]:
    """Names bound at module level: functions, assignments (`load = other.load`) and imports."""
    names: list[str] = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names.append(node.name)
        elif isinstance(node, ast.Assign):
            names += [t.id for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names += [alias.asname or alias.name.split(".")[0] for alias in node.names]
    return tuple(names)


def _int_constants(tree: ast.Module) -> dict[str, int]:
    found: dict[str, int] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            value = node.value
            if isinstance(value, ast.Constant) and isinstance(value.value, int) and value.value > 0:
                found[node.targets[0].id] = value.value
    return found


def _first_line(text: str | None) -> str:
    return (text or "").strip().splitlines()[0] if (text or "").strip() else ""
