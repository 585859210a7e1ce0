"""The host/harness contract (workloads/protocol.py): one definition of the spec's keys, the event kinds and the
thread variables, used by both sides of the process boundary."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator.config.expand import expand
from orchestrator.config.load import load_matrix
from orchestrator.core import protocol
from orchestrator.core.workload_files import workloads_dir
from orchestrator.environments import layout
from orchestrator.environments.layout import EnvPaths, cell_process_env, env_paths
from orchestrator.environments.prepared import Prepared
from orchestrator.execution import assemble as assemble_module
from orchestrator.execution import spec as spec_module
from orchestrator.execution.assemble import assemble
from orchestrator.execution.process import HarnessOutcome
from orchestrator.execution.spec import make_spec

WORKLOADS = workloads_dir()
PROTOCOL_FILE = WORKLOADS / "protocol.py"
HARNESS = WORKLOADS / "harness.py"
RUNNER = WORKLOADS / "native" / "runner.py"
EVENT_WRITERS = (HARNESS, RUNNER)  # every module that writes events


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


def _attributes_of(tree: ast.AST, namespace: str) -> set[str]:
    """The names used as `namespace.NAME` in a module (Event.START -> START)."""
    return {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name) and node.value.id == namespace}


def _event_writes(tree: ast.AST) -> list[ast.expr]:
    """The kind argument of every `events.write(kind, ...)` call."""
    return [node.args[0] for node in ast.walk(tree) if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute) and node.func.attr == "write"
            and isinstance(node.func.value, ast.Name) and node.func.value.id == "events" and node.args]


def _literal_spec_keys(tree: ast.AST) -> list[tuple[str, int]]:
    """String keys read from a variable named `spec` (`spec["x"]`, `spec.get("x")`), with their line."""
    found = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id == "spec"
                and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str)):
            found.append((node.slice.value, node.lineno))
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
              and isinstance(node.func.value, ast.Name) and node.func.value.id == "spec" and node.args
              and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            found.append((node.args[0].value, node.lineno))
    return found


def _cell_and_prepared(repo: Path, tmp_path: Path, environment: str = "keras3-jax"):
    loaded = load_matrix(repo / "matrix.yaml")
    cell = expand(loaded, profile="smoke", environments=[environment], workloads=["mnist_mlp"])[0]
    prepared = Prepared(environment, loaded.matrix.environments[environment], "abc", EnvPaths(tmp_path), "3.11.2")
    return loaded, cell, prepared


# The protocol file itself


def test_protocol_is_python_3_6_with_no_imports() -> None:
    """The legacy environments run Python 3.6: the file must parse with its grammar and need nothing."""
    source = PROTOCOL_FILE.read_text()
    tree = ast.parse(source, filename=str(PROTOCOL_FILE), feature_version=(3, 6))
    assert not [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]
    assert not [n for n in ast.walk(tree) if isinstance(n, ast.JoinedStr)]  # no f-strings: plain 3.6 formatting
    assert ast.get_docstring(tree) and "contract" in ast.get_docstring(tree)
    # The harness imports it, so the harness too keeps to Python 3.6's grammar.
    ast.parse(HARNESS.read_text(), filename=str(HARNESS), feature_version=(3, 6))


def test_names_are_unique_and_lists_complete() -> None:
    for values in (protocol.SPEC_KEYS, protocol.DATA_KEYS, protocol.EVENT_KINDS, protocol.READ_BACK_VARS):
        assert len(values) == len(set(values)), values
    assert protocol.SPEC_KEYS == protocol.names(protocol.Spec)
    assert protocol.EVENT_KINDS == protocol.names(protocol.Event)
    assert set(protocol.THREAD_VARS) <= set(protocol.READ_BACK_VARS)
    assert protocol.XLA_FLAGS in protocol.READ_BACK_VARS and protocol.XLA_SINGLE_THREADED in protocol.XLA_ONE_THREAD_FLAGS
    # The names already on disk in old results and events files.
    assert {"cell_id", "workload", "batch_size", "epochs", "seed", "threads", "data", "options"} <= set(
        protocol.SPEC_KEYS)
    assert {"start", "data", "model", "epoch", "fit", "evaluate", "end", "unsupported", "error"} <= set(
        protocol.EVENT_KINDS)
    assert (protocol.EVENT_FIELD, protocol.TIME_FIELD) == ("event", "time")


def test_the_host_loads_the_file_the_harness_imports() -> None:
    module = protocol.load()
    assert Path(module.__file__).resolve() == PROTOCOL_FILE.resolve() == protocol.protocol_path().resolve()
    assert protocol.load() is module and sys.modules[protocol.MODULE_NAME] is module  # loaded once
    public = {name for name in vars(module) if not name.startswith("_")}
    assert public == set(protocol.__all__) - {"load", "protocol_path"}  # every name re-exported, none made up
    for name in public:
        assert getattr(protocol, name) is getattr(module, name), name


def test_the_core_loader_imports_nothing_above_core() -> None:
    tree = _tree(Path(protocol.__file__))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert {m for m in imported if m.startswith("orchestrator")} <= {"orchestrator.core.workload_files"}


# (a) the spec


def test_make_spec_writes_exactly_the_protocol_keys(repo: Path, tmp_path: Path) -> None:
    loaded, cell, prepared = _cell_and_prepared(repo, tmp_path)
    spec = make_spec(cell, prepared, loaded, "/data", "/cache")
    assert tuple(spec) == protocol.SPEC_KEYS
    assert tuple(spec[protocol.Spec.DATA]) == protocol.DATA_KEYS
    assert json.loads(json.dumps(spec)) == spec  # plain JSON, as written to disk


def test_make_spec_names_its_keys_only_through_the_protocol() -> None:
    """A literal key added to make_spec alone (not to protocol.py) fails here and in the test above."""
    tree = _tree(Path(spec_module.__file__))
    function = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "make_spec")
    dicts = [n for n in ast.walk(function) if isinstance(n, ast.Dict)]
    assert dicts
    for node in dicts:
        for key in node.keys:
            assert isinstance(key, ast.Attribute) and isinstance(key.value, ast.Name), ast.dump(key)
            assert key.value.id in ("Spec", "DataSpec"), ast.dump(key)
    assert _attributes_of(function, "Spec") == {n for n in vars(protocol.Spec) if n.isupper()}


def test_the_harness_side_reads_only_protocol_keys() -> None:
    """The harness and native runner name spec keys through Spec; every workload module that still reads a key
    by its string reads one the host writes."""
    spec_names = {n for n in vars(protocol.Spec) if n.isupper()}
    for path in EVENT_WRITERS:
        tree = _tree(path)
        assert _literal_spec_keys(tree) == [], path
        assert _attributes_of(tree, "Spec") <= spec_names, path
    for path in sorted(WORKLOADS.rglob("*.py")):
        unknown = [(key, line) for key, line in _literal_spec_keys(_tree(path)) if key not in protocol.SPEC_KEYS]
        assert unknown == [], f"{path}: spec keys the host never writes: {unknown}"


# (b) the events


@pytest.mark.parametrize("path", EVENT_WRITERS, ids=lambda p: p.name)
def test_every_event_written_is_a_protocol_kind(path: Path) -> None:
    kinds = _event_writes(_tree(path))
    assert kinds, f"{path} writes no events?"
    for kind in kinds:
        assert isinstance(kind, ast.Attribute) and isinstance(kind.value, ast.Name) and kind.value.id == "Event", (
            f"{path}:{kind.lineno}: event kind {ast.unparse(kind)} is not an Event constant")
        assert kind.attr in vars(protocol.Event), f"{path}:{kind.lineno}: Event.{kind.attr} is not in protocol.py"


def test_every_kind_is_written_and_assembled() -> None:
    """Each protocol event kind is written by the harness or the native runner and read by assemble."""
    event_names = {n for n in vars(protocol.Event) if n.isupper()}
    written = set()
    for path in EVENT_WRITERS:
        written |= {k.attr for k in _event_writes(_tree(path)) if isinstance(k, ast.Attribute)}
    assert written == event_names
    read = _attributes_of(_tree(Path(assemble_module.__file__)), "Event")
    assert read == event_names


def test_assemble_reads_events_by_protocol_kind(repo: Path, tmp_path: Path) -> None:
    """Events named by the protocol's constants become the result's fields."""
    loaded, cell, prepared = _cell_and_prepared(repo, tmp_path)
    event = protocol.Event
    events = [
        {protocol.EVENT_FIELD: event.START, "import_s": 1.5, "threads": {"requested": cell.threads},
         "versions": {"keras": "3.0", "python": "3.11.2"}},
        {protocol.EVENT_FIELD: event.DATA, "seconds": 0.5},
        {protocol.EVENT_FIELD: event.MODEL, "params": 10, "seconds": 0.25},
        {protocol.EVENT_FIELD: event.COMPILE, "seconds": 0.125},
        {protocol.EVENT_FIELD: event.EPOCH, "epoch": 1, "seconds": 2.0, "loss": 1.0},
        {protocol.EVENT_FIELD: event.STEPS, "fit_ms_per_step": 3.0},
        {protocol.EVENT_FIELD: event.FIT, "fit_s": 2.0, "train_samples_per_epoch": 100},
        {protocol.EVENT_FIELD: event.DEVICE, "framework": {"kind": "cpu"}},
        {protocol.EVENT_FIELD: event.EVALUATE, "metrics": {"loss": 0.5}, "seconds": 0.1},
        {protocol.EVENT_FIELD: event.INFERENCE, "results": {"batch_s": [0.001, 0.003]}},
        {protocol.EVENT_FIELD: event.END, "fit_s": 2.0, "train_samples_per_epoch": 100},
    ]
    outcome = HarnessOutcome(returncode=0, timed_out=False, wall_s=5.0, events=events)
    env_vars = {var: str(cell.threads) for var in protocol.THREAD_VARS}
    env_vars.update({protocol.XLA_FLAGS: protocol.XLA_ONE_THREAD_FLAGS, "PATH": "/usr/bin"})
    result = assemble(cell, prepared, outcome, "run", "local", "2024-01-01T00:00:00", env_vars)
    assert result.status == "ok"
    t = result.timings
    assert (t.import_s, t.data_s, t.build_s, t.compile_s, t.fit_s, t.evaluate_s, t.epochs_s) == (
        1.5, 0.5, 0.25, 0.125, 2.0, 0.1, [2.0])
    assert t.fit_ms_per_step == 3.0 and t.predict_ms_per_step == 2.0
    assert result.host.framework_device == {"kind": "cpu"} and result.model.params == 10
    assert set(result.threads.env) == set(protocol.THREAD_VARS) | {protocol.XLA_FLAGS}
    for kind, status in ((event.UNSUPPORTED, "unsupported"), (event.ERROR, "failed")):
        outcome = HarnessOutcome(returncode=0, timed_out=False, wall_s=1.0,
                                 events=[{protocol.EVENT_FIELD: kind, "reason": "r", "message": "m"}])
        assert assemble(cell, prepared, outcome, "run", "local", "t", {}).status == status


def test_the_harness_process_writes_protocol_events(tmp_path: Path) -> None:
    """The harness starts, imports protocol.py beside it, and reports (here: the missing Keras) as a protocol
    event with the protocol's fields."""
    spec_path, events_path = tmp_path / "cell.json", tmp_path / "events.jsonl"
    spec_path.write_text(json.dumps({protocol.Spec.API: protocol.API_NATIVE, protocol.Spec.BACKEND: "no-such"}))
    subprocess.run([sys.executable, str(HARNESS), "--spec", str(spec_path), "--events", str(events_path)],
                   cwd=tmp_path, capture_output=True, timeout=120, check=False)
    events = [json.loads(line) for line in events_path.read_text().splitlines()]
    assert [e[protocol.EVENT_FIELD] for e in events] == [protocol.Event.ERROR]
    assert protocol.TIME_FIELD in events[0] and events[0]["type"] == "KeyError"


# (d) the thread variables


def test_a_cells_process_env_sets_exactly_the_protocol_thread_variables(repo: Path, tmp_path: Path) -> None:
    loaded = load_matrix(repo / "matrix.yaml")
    for name in ("keras3-jax", "keras3-torch", "tensorflow1"):
        env = loaded.matrix.environments[name].model_copy(update={"env": {}})
        result = cell_process_env(env_paths(tmp_path, name), env, threads=7, seed=0, base={"PATH": "/usr/bin"})
        assert {k for k, v in result.items() if v == "7"} == set(protocol.THREAD_VARS), name
    assert layout.THREAD_VARS is protocol.THREAD_VARS
    jax = cell_process_env(env_paths(tmp_path, "j"), loaded.matrix.environments["keras3-jax"], threads=1, seed=0,
                           base={})
    assert jax[protocol.XLA_FLAGS] == protocol.XLA_ONE_THREAD_FLAGS


def test_the_harness_reads_back_the_protocol_variables() -> None:
    """Both event writers read the thread variables back through protocol.read_back, not a list of their own."""
    for path in EVENT_WRITERS:
        assert "read_back(os.environ)" in path.read_text(), path
        literals = {n.value for n in ast.walk(_tree(path)) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
        assert not literals & set(protocol.READ_BACK_VARS), path
    environ = {"OMP_NUM_THREADS": "2", "KMP_BLOCKTIME": "0", "PATH": "/usr/bin"}
    assert protocol.read_back(environ) == {"OMP_NUM_THREADS": "2", "KMP_BLOCKTIME": "0"}


def test_assemble_records_the_thread_variables() -> None:
    env_vars = {var: "3" for var in protocol.READ_BACK_VARS} | {"PATH": "/usr/bin", "HOME": "/h"}
    assert set(assemble_module.thread_env(env_vars)) == set(protocol.READ_BACK_VARS)
