"""A user's model file refused before anything is built: an environment that is not Keras 3, and a contract
function whose parameters cannot take the harness's call (read with ast, never run). Unit tests: no environment
is built, no cell runs; the real files (built-in workloads, examples/my_model.py) pass the same check.
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

from orchestrator.cli import main
from orchestrator.config.adhoc import with_model
from orchestrator.config.expand import expand
from orchestrator.config.load import load_matrix
from orchestrator.config.user_model import SIGNATURES, check_script
from orchestrator.core.errors import ConfigError

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
EXAMPLE = REPO / "examples" / "my_model.py"
KERAS3 = ["keras3-jax", "keras3-tensorflow", "keras3-torch", "keras3-openvino"]  # matrix.yaml's, in its order


def refused(tmp_path: Path, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """`orchestrate run matrix.yaml ARGS`: exit 2, one plain error, no traceback, nothing built or started."""
    code = main(["run", str(REPO / "matrix.yaml"), "--results-dir", str(tmp_path / "results"),
                 "--cache-dir", str(tmp_path / "cache"), *args])
    captured = capsys.readouterr()
    assert code == 2, captured.out + captured.err
    assert "Traceback" not in captured.out + captured.err
    assert not (tmp_path / "cache").exists() and not (tmp_path / "results").exists()  # no build, no run folder
    return " ".join(captured.err.split())  # the console wraps nothing, but keep the test independent of width


def model_file(tmp_path: Path, text: str, name: str = "my_model.py") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


# --- an environment that is not Keras 3 ---------------------------------------------------------------------------

def test_model_on_an_older_keras_is_refused_before_any_build(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    err = refused(tmp_path, capsys, "--model", str(EXAMPLE), "--env", "tensorflow1")
    assert (f"--env tensorflow1: Keras 2.3.1; a model file (--model {EXAMPLE}) runs on Keras 3 environments only: "
            "keras3-tensorflow, keras3-jax, keras3-torch (the default), or another Keras 3 environment of "
            f"{REPO / 'matrix.yaml'}: keras3-openvino") in err


def test_model_on_a_native_environment_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = refused(tmp_path, capsys, "--model", str(EXAMPLE), "--env", "keras3-jax", "--env", "native-torch",
                  "--env", "mxnet-keras1")
    assert "--env native-torch: api: native (torch in its own API, no Keras)" in err
    assert "--env mxnet-keras1: Keras 1.2.2" in err
    assert "--env keras3-jax" not in err  # only the environments that cannot run it are named


def test_model_on_keras3_environments_is_accepted_and_kept_there() -> None:
    loaded = with_model(load_matrix(REPO / "matrix.yaml"), str(EXAMPLE), ["keras3-openvino", "keras3-jax"])
    assert loaded.matrix.workloads["my_model"].environments == KERAS3
    everything = list(loaded.matrix.environments)  # `--all`: the file's cells only on the Keras 3 environments
    cells = expand(loaded, environments=everything, workloads=["my_model"], profile="smoke")
    assert sorted({c.environment for c in cells}) == sorted(KERAS3)


def test_matrix_script_listing_an_older_keras_is_refused_at_load(tmp_path: Path) -> None:
    text = (HERE / "user_models" / "matrix.yaml").read_text().replace("../../requirements", str(REPO / "requirements"))
    text = text.replace("script: ", f"script: {HERE / 'user_models'}/")
    text = text.replace("environments:\n  keras3-jax:", "environments:\n  old:\n    backend: theano\n    keras: "
                        "\"2.3.1\"\n    python: \"3.6\"\n    requirements: " + str(REPO / "requirements/theano.txt")
                        + "\n  keras3-jax:")
    matrix = model_file(tmp_path, text.replace("{script: " + f"{HERE / 'user_models'}/ok_model.py,",
                                               "{environments: [keras3-jax, old], script: "
                                               f"{HERE / 'user_models'}/ok_model.py,"), "matrix.yaml")
    with pytest.raises(ConfigError) as caught:
        load_matrix(matrix)
    message = str(caught.value)
    assert f"{matrix}: workloads.ok_model.environments: old: Keras 2.3.1; a model file (workloads.ok_model.script " \
           in message and "runs on Keras 3 environments only: keras3-jax, keras3-jax+eager" in message
    matrix.write_text(text)  # the same environment, not listed by the file's workload: accepted
    assert "old" in load_matrix(matrix).matrix.environments


# --- signatures, read without running the file --------------------------------------------------------------------

LOAD = "def load(spec):\n    return {}\n"


@pytest.mark.parametrize(("source", "line", "expected"), [
    (LOAD + "\n\ndef build(spec, data, extra):\n    pass\n", 5,
     "build(spec, data, extra) takes 3 arguments; the harness calls build(spec, data)"),
    ("def load():\n    pass\n\ndef build(spec, data):\n    pass\n", 1,
     "load() takes 0 arguments; the harness calls load(spec)"),
    (LOAD + "def build(spec, data): pass\ndef fit(model, data):\n    pass\n", 4,
     "fit(model, data) takes 2 arguments; the harness calls fit(spec, model, data, callbacks)"),
    (LOAD + "def build(spec, data): pass\ndef evaluate(spec, model, data, *, verbose):\n    pass\n", 4,
     "evaluate(spec, model, data, *, verbose) needs the keyword argument(s) verbose, which the harness never passes"),
    (LOAD + "def build(spec, data): pass\ndef inference_inputs(spec, data, x, *rest):\n    pass\n", 4,
     "inference_inputs(spec, data, x, *rest) needs at least 3 arguments; the harness calls "
     "inference_inputs(spec, data)"),
    (LOAD + "build = lambda spec: None\n", 3, "build(spec) takes 1 argument; the harness calls build(spec, data)"),
    (LOAD + "def build(spec, data, x, y=1):\n    pass\n", 3, "build(spec, data, x, y=1) takes 3 to 4 arguments"),
])
def test_signature_mismatch_is_named_with_file_and_line(tmp_path: Path, source: str, line: int,
                                                        expected: str) -> None:
    path = model_file(tmp_path, source)
    with pytest.raises(ConfigError) as caught:
        check_script(path, "--model my_model.py")
    assert f"--model my_model.py: {path}:{line}: {expected}" in str(caught.value)


@pytest.mark.parametrize("source", [
    "def build(spec, data, extra=None, *, verbose=False, **options): pass",  # defaults, keyword-only with defaults
    "def build(*args): pass",
    "def build(spec, *rest, **kwargs): pass",
    "def build(spec, data, /): pass",  # positional-only
    "def build(spec: dict, data: dict) -> object: pass",  # annotated
    "async def build(spec, data): pass",
    "build = lambda spec, data=None: None",
    "import other\nbuild = other.build",  # cannot be checked here: accepted (the cell names a mismatch)
    "from other import build",
    "import functools\n@functools.lru_cache\ndef build(spec, data, extra): pass",  # a decorator may change it
    "def build(spec, data, extra): pass\nbuild = make(build)",  # the last binding counts
    "class build:\n    def __init__(self, spec, data): pass",
    "def build(spec): pass\ntry:\n    from fast import build\nexcept ImportError:\n    def build(spec, data): pass",
])
def test_compatible_signatures_are_accepted(tmp_path: Path, source: str) -> None:
    fits = ("def fit(spec, model, data, callbacks, *, verbose=1): pass\ndef evaluate(spec, model, data): pass\n"
            "def inference_inputs(spec, data, **_): pass\n")
    check_script(model_file(tmp_path, f"{LOAD}{fits}{source}\n"), "--model my_model.py")


def test_signature_mismatch_stops_the_run_before_any_build(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    path = model_file(tmp_path, EXAMPLE.read_text().replace("def build(spec, data):", "def build(spec, data, extra):"))
    err = refused(tmp_path, capsys, "--model", str(path))
    line = 1 + EXAMPLE.read_text().splitlines().index("def build(spec, data):")
    assert f"--model {path}: {path}:{line}: build(spec, data, extra) takes 3 arguments; the harness calls " \
           f"build(spec, data)" in err


def test_the_table_matches_how_the_harness_calls_each_function() -> None:
    harness = (REPO / "workloads" / "harness.py").read_text()  # UserWorkload's docstring and its calls
    for name, params in SIGNATURES.items():
        assert f"{name}({', '.join(params)})" in harness, name
    assert "fit(spec, model, data, [timer])" in harness and "evaluate(spec, model, data)" in harness


def real_workloads() -> list[Path]:
    """The project's workload files (those defining load and build at module level) and the example."""
    root = REPO / "workloads"
    found = []
    for path in sorted([*root.glob("*.py"), *(root / "modern").glob("*.py")]):
        names = {n.name for n in ast.parse(path.read_text()).body if isinstance(n, ast.FunctionDef)}
        if {"load", "build"} <= names:
            found.append(path)
    return [*found, EXAMPLE]


def test_real_files_pass_the_signature_check() -> None:
    files = real_workloads()
    assert len(files) >= 11 and {p.stem for p in files} >= {"mnist_mlp", "gpt2_causal_lm", "my_model"}
    for path in files:
        check_script(path, "test")


def test_the_example_still_runs_through_with_model(tmp_path: Path) -> None:
    copy = tmp_path / "copied_model.py"
    shutil.copy(EXAMPLE, copy)
    loaded = with_model(load_matrix(REPO / "matrix.yaml"), str(copy))
    assert loaded.matrix.default.environments == ["keras3-tensorflow", "keras3-jax", "keras3-torch"]
