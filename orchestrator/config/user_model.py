"""Check a user's model file before any environment is built: it exists, parses, defines the contract with
signatures the harness can call, and is asked to run on Keras 3 environments only.

The contract (docs/your-model.md) is the built-in workloads': `load(spec)` and `build(spec, data)`, optional
`fit`, `evaluate` and `inference_inputs`, called positionally by workloads/harness.py as `SIGNATURES` says. The
file is read with `ast`, never imported here: it imports Keras, which lives only in the environments. A function
defined with `def` or `lambda` at module level is checked (defaults, `*args`, `**kwargs` and keyword-only
parameters with defaults are compatible); one bound otherwise (`build = other.build`, an import, a decorated
`def`) cannot be checked here and is accepted: the cell then names any mismatch. Module-level `EPOCHS` /
`BATCH_SIZE` literals give its defaults.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from orchestrator.config.schema import Environment
from orchestrator.core.errors import ConfigError

# How workloads/harness.py calls each function of the contract: these arguments, positionally, in this order.
SIGNATURES: dict[str, tuple[str, ...]] = {
    "load": ("spec",),
    "build": ("spec", "data"),
    "fit": ("spec", "model", "data", "callbacks"),
    "evaluate": ("spec", "model", "data"),
    "inference_inputs": ("spec", "data"),
}
REQUIRED = {name: f"{name}({', '.join(SIGNATURES[name])})" for name in ("load", "build")}
OPTIONAL = ("fit", "evaluate", "inference_inputs")
KERAS_MAJOR = 3  # a model file imports `keras` as Keras 3 (keras.Input, keras.layers..., one API for 3 backends)


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
    check_signatures(tree, path, where)
    constants = _int_constants(tree)
    return ScriptInfo(path=path, functions=functions, epochs=constants.get("EPOCHS"),
                      batch_size=constants.get("BATCH_SIZE"), description=_first_line(ast.get_docstring(tree)))


def check_signatures(tree: ast.Module, path: Path, where: str) -> None:
    """Refuse a contract function whose parameters cannot take the harness's call (SIGNATURES), naming the file,
    the line, the signature found and the call it gets."""
    for name, node in _contract_functions(tree).items():
        problem = signature_problem(node.args, len(SIGNATURES[name]))
        if problem:
            found = f"{name}({ast.unparse(node.args)})"
            expected = f"{name}({', '.join(SIGNATURES[name])})"
            raise ConfigError(f"{where}: {path}:{node.lineno}: {found} {problem}; the harness calls {expected}: "
                              f"define `def {expected}` (extra parameters need defaults; docs/your-model.md)")


def _contract_functions(tree: ast.Module) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda]:
    """The contract's names whose last module-level binding is a plain `def` or `name = lambda ...`: the ones whose
    parameters can be read here. Anything else bound last (an import, `build = other`, a decorated def) is left out."""
    found: dict[str, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | None] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found[node.name] = None if node.decorator_list else node
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found[target.id] = node.value if isinstance(node.value, ast.Lambda) else None
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)) and isinstance(node.target, ast.Name):
            found[node.target.id] = None
        elif isinstance(node, (ast.Import, ast.ImportFrom, ast.ClassDef)):
            names = [node.name] if isinstance(node, ast.ClassDef) else \
                [alias.asname or alias.name.split(".")[0] for alias in node.names]
            found.update(dict.fromkeys(names))
        else:  # `if`, `try`, `with`, `for`...: what they bind depends on how they run
            found.update(dict.fromkeys(_bound_inside(node)))
    return {name: node for name, node in found.items() if name in SIGNATURES and node is not None}


def _bound_inside(node: ast.stmt) -> list[str]:
    """Names a compound statement at module level may bind (functions, classes, assignments, imports)."""
    names: list[str] = []
    for inner in ast.walk(node):
        if isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(inner.name)
        elif isinstance(inner, ast.Name) and isinstance(inner.ctx, ast.Store):
            names.append(inner.id)
        elif isinstance(inner, (ast.Import, ast.ImportFrom)):
            names += [alias.asname or alias.name.split(".")[0] for alias in inner.names]
    return names


def signature_problem(args: ast.arguments, given: int) -> str | None:
    """Why parameters `args` cannot take `given` positional arguments and nothing else (None: they can)."""
    positional = len(args.posonlyargs) + len(args.args)
    required = positional - len(args.defaults)
    keyword_only = [a.arg for a, default in zip(args.kwonlyargs, args.kw_defaults) if default is None]
    if keyword_only:
        return f"needs the keyword argument(s) {', '.join(keyword_only)}, which the harness never passes"
    if required <= given and (given <= positional or args.vararg is not None):
        return None
    if args.vararg is not None:
        return f"needs at least {required} argument{'s' * (required != 1)}"
    counted = str(positional) if required == positional else f"{required} to {positional}"
    return f"takes {counted} argument{'s' * (positional != 1)}"


def keras3_problem(env: Environment) -> str | None:
    """Why a model file cannot run in this environment (None: it can, Keras 3 or later)."""
    if env.api == "native":
        return f"api: native ({env.backend} in its own API, no Keras)"
    if env.keras_major < KERAS_MAJOR:
        return f"Keras {env.keras}"
    return None


def keras3_environments(environments: dict[str, Environment]) -> list[str]:
    """The environments a model file can run on, in the matrix's order."""
    return [name for name, env in environments.items() if keras3_problem(env) is None]


def check_keras3(environments: dict[str, Environment], names: list[str], label: str, model: str,
                 where_else: str) -> None:
    """Refuse the environments of `names` that are not Keras 3 (unknown names are left to the selection check).

    `label` prefixes each name in the message (`--env ` or `workloads.x.environments: `), `model` says which file
    (`--model my_model.py`), `where_else` which Keras 3 environments to suggest."""
    problems = [f"{label}{name}: {why}" for name in names if name in environments
                for why in [keras3_problem(environments[name])] if why]
    if problems:
        raise ConfigError(f"{'; '.join(problems)}; a model file ({model}) runs on Keras 3 environments only: "
                          f"{where_else}")


def _module_names(tree: ast.Module) -> tuple[str, ...]:
    """Names bound at module level: functions, classes, assignments (`load = other.load`) and imports."""
    names: list[str] = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
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
