"""A user's model file as a workload (docs/your-model.md): the six ways a file can be wrong, each told plainly.

File not found, a syntax error and a missing loader/builder are refused before anything is built (exit 2, no
traceback). A builder returning a non-model, a loader raising and a loss going NaN on one backend fail their own
cells in the real Keras 3 environments, named (file, function, backend, the cell's traceback), while the other
cells go on.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator.results.io import load_cells
from orchestrator.report.failures import traceback_tail

HERE = Path(__file__).resolve().parent
MODELS = HERE / "user_models"


def orchestrate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "orchestrator.cli", *args], capture_output=True, text=True,
                          timeout=900)


def refused(tmp_path: Path, model: Path) -> str:
    """Run --model on a bad file: exit 2, one plain error, no traceback, nothing built."""
    proc = orchestrate("run", "--model", str(model), "--results-dir", str(tmp_path / "results"),
                       "--cache-dir", str(tmp_path / "cache"))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert not (tmp_path / "cache" / "envs").exists()  # refused before any environment is built
    return proc.stderr


def test_model_file_not_found(tmp_path: Path) -> None:
    err = refused(tmp_path, tmp_path / "no_such_model.py")
    assert f"--model {tmp_path / 'no_such_model.py'}: model file {tmp_path / 'no_such_model.py'} not found" in err


def test_model_file_with_a_syntax_error(tmp_path: Path) -> None:
    model = tmp_path / "broken.py"
    model.write_text("import keras\n\ndef build(spec, data)\n    return None\n")
    err = refused(tmp_path, model)
    assert f"{model}:3: syntax error" in err and "def build(spec, data)" in err


@pytest.mark.parametrize("missing", ["load", "build"])
def test_model_file_without_its_loader_or_builder(tmp_path: Path, missing: str) -> None:
    model = tmp_path / "half.py"
    present = "build" if missing == "load" else "load"
    model.write_text(f"def {present}(*args):\n    return None\n")
    err = refused(tmp_path, model)
    signature = "load(spec)" if missing == "load" else "build(spec, data)"
    assert f"{model} defines no {signature} function" in err


def test_matrix_script_is_checked_with_the_matrix(tmp_path: Path) -> None:
    matrix = tmp_path / "matrix.yaml"
    text = (MODELS / "matrix.yaml").read_text().replace("../../requirements", str(HERE.parent / "requirements"))
    matrix.write_text(text.replace("script: ok_model.py", "script: models/missing.py"))
    proc = orchestrate("run", str(matrix), "--results-dir", str(tmp_path / "results"))
    assert proc.returncode == 2
    assert f"{matrix}: workloads.ok_model.script: model file {tmp_path / 'models' / 'missing.py'} not found" \
        in proc.stderr


def test_traceback_tail_keeps_the_users_frames() -> None:
    log = ('Traceback (most recent call last):\n  File "m.py", line 4, in load\n    open_csv(p)\n'
           'FileNotFoundError: no such file\n\nThe above exception was the direct cause of the following exception:'
           '\n\nTraceback (most recent call last):\n  File "harness.py", line 9\nUserModelError: m.py: load()')
    assert traceback_tail(log)[-2:] == ["    open_csv(p)", "FileNotFoundError: no such file"]


@pytest.mark.integration
def test_failing_cells_are_named_and_the_others_go_on(repo: Path, env_cache: Path, tmp_path: Path) -> None:
    shutil.copytree(MODELS, tmp_path / "models")
    matrix = tmp_path / "models" / "matrix.yaml"
    matrix.write_text(matrix.read_text().replace("../../requirements", str(repo / "requirements")))
    common = ["--results-dir", str(tmp_path / "results"), "--cache-dir", str(env_cache), "--no-report"]
    jax_only = orchestrate("run", str(matrix), "--env", "keras3-jax", "--workload", "not_a_model",
                           "--workload", "load_raises", "--run-id", "jax", *common)
    both = orchestrate("run", str(matrix), "--env", "keras3-jax", "--env", "keras3-torch",
                       "--workload", "nan_on_torch", "--run-id", "both", *common)
    for proc in (jax_only, both):
        assert proc.returncode == 1, proc.stdout + proc.stderr
        assert "Traceback" not in proc.stderr  # the orchestrator's own: none
    cells = {r.cell_id: r for run in ("jax", "both") for r in load_cells(tmp_path / "results" / run).results}
    models = tmp_path / "models"

    not_a_model = cells["keras3-jax__not_a_model__test__r0"]
    assert not_a_model.status == "failed" and not_a_model.error.type == "UserModelError"
    assert not_a_model.reason == (f"{models / 'not_a_model.py'}: build() on the jax backend returned dict, not a "
                                  "Keras model: return a compiled keras.Model (or (model, info))")

    raises = cells["keras3-jax__load_raises__test__r0"]
    assert raises.status == "failed"
    assert raises.reason == (f"{models / 'load_raises.py'}: load() on the jax backend raised FileNotFoundError: "
                             "no such file: /nonexistent/train.csv")
    assert traceback_tail(raises.error.log_tail)[-1] == "FileNotFoundError: no such file: /nonexistent/train.csv"
    assert "open_csv" in "\n".join(traceback_tail(raises.error.log_tail))  # the user's frames

    nan = cells["keras3-torch__nan_on_torch__test__r0"]
    assert nan.status == "failed"
    assert nan.reason.startswith(f"{models / 'nan_on_torch.py'}: the loss became nan in epoch 1 on the torch backend")
    assert cells["keras3-jax__nan_on_torch__test__r0"].status == "ok"  # the other backend's cell went on
    assert nan.reason in both.stdout and "load_raises.py" in jax_only.stdout  # printed, with its traceback lines
    assert "FileNotFoundError: no such file: /nonexistent/train.csv" in jax_only.stdout


@pytest.mark.integration
def test_user_model_on_the_local_runtime(repo: Path, env_cache: Path, tmp_path: Path) -> None:
    """The file is loaded by path on the local runtime and recorded like any workload."""
    matrix = tmp_path / "matrix.yaml"
    matrix.write_text((MODELS / "matrix.yaml").read_text().replace("../../requirements", str(repo / "requirements"))
                      .replace("script: ", f"script: {MODELS}/"))
    proc = orchestrate("run", str(matrix), "--runtime", "local", "--results-dir", str(tmp_path), "--run-id", "local",
                       "--cache-dir", str(env_cache), "--no-report")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (result,) = load_cells(tmp_path / "local").results
    assert result.status == "ok" and result.cell_id == "keras3-jax__ok_model__test__r0"
    assert result.model.params == 10 and result.data.source == "synthetic" and result.data.dataset == "tiny"
    assert len(result.timings.epochs_s) == 2


def test_configurations_become_environments_sharing_their_base(tmp_path: Path) -> None:
    from orchestrator.config.expand import expand
    from orchestrator.config.load import load_matrix

    matrix = tmp_path / "matrix.yaml"
    matrix.write_text((MODELS / "matrix.yaml").read_text().replace("../../requirements", str(HERE.parent / "requirements"))
                      .replace("script: ", f"script: {MODELS}/"))
    loaded = load_matrix(matrix)
    names = list(loaded.matrix.environments)
    assert names[:4] == ["keras3-jax", "keras3-jax+eager", "keras3-jax+bf16", "keras3-jax+bs8"]
    eager = loaded.matrix.environments["keras3-jax+eager"]
    assert eager.base == "keras3-jax" and eager.env["ORCHESTRATE_JIT_COMPILE"] == "false"
    cells = expand(loaded, environments=["keras3-jax", "keras3-jax+bs8"])
    assert [(c.environment, c.batch_size) for c in cells] == [("keras3-jax", 16), ("keras3-jax+bs8", 8)]
    assert [c.environment for c in expand(loaded)] == ["keras3-jax"]  # only when selected


@pytest.mark.integration
def test_a_configuration_sweep_gives_one_row_per_configuration(repo: Path, env_cache: Path, tmp_path: Path) -> None:
    """keras3-jax plain, eager (jit_compile off) and bf16 (mixed_bfloat16) side by side in one run: each its own
    result and its own row in the verdict, named, sharing the one built environment (batch size: the test above)."""
    from orchestrator.analysis.stats import group_results
    from orchestrator.analysis.verdicts.settings import Settings
    from orchestrator.analysis.verdicts.workloads import workload_verdicts

    matrix = tmp_path / "matrix.yaml"
    matrix.write_text((MODELS / "matrix.yaml").read_text().replace("../../requirements", str(repo / "requirements"))
                      .replace("script: ", f"script: {MODELS}/"))
    envs = ["keras3-jax", "keras3-jax+eager", "keras3-jax+bf16"]
    proc = orchestrate("run", str(matrix), *[a for env in envs for a in ("--env", env)], "--results-dir",
                       str(tmp_path), "--run-id", "sweep", "--cache-dir", str(env_cache))
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    results = {r.environment.name: r for r in load_cells(tmp_path / "sweep").results}
    assert sorted(results) == sorted(envs) and all(r.status == "ok" for r in results.values())
    assert len({r.environment.env_hash for r in results.values()}) == 1  # one build shared
    assert results["keras3-jax"].environment.configuration is None
    assert results["keras3-jax+eager"].environment.configuration == {"base": "keras3-jax", "jit_compile": False}
    assert results["keras3-jax+eager"].model.hyperparameters["jit_compile"]["resolved"] is False
    assert results["keras3-jax"].model.hyperparameters["jit_compile"]["resolved"] is True
    assert results["keras3-jax+bf16"].model.hyperparameters["dtype_policy"] == "mixed_bfloat16"
    assert results["keras3-jax"].model.hyperparameters["dtype_policy"] == "float32"
    (verdict,) = workload_verdicts(group_results(list(results.values())), Settings("keras3-jax", 0.05, 0.1))
    assert sorted(row.group.environment for row in verdict.rows) == sorted(envs)
    assert "keras3-jax+bf16" in (tmp_path / "sweep" / "report" / "report.html").read_text()
