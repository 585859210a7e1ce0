"""Each row of the README's table of bad inputs, run through `orchestrate run`: a clear message, the right
exit code, and nothing already measured lost. (Missing data inside a cell: tests/test_local_runtime.py;
a results file edited by hand: tests/test_run_survives.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.cli import main
from orchestrator.results import load_cells


@pytest.fixture()
def matrix_text(repo: Path) -> str:
    text = (repo / "tests" / "workloads" / "matrix.yaml").read_text()
    text = text.replace("../../requirements/keras3-jax.txt", str(repo / "requirements" / "keras3-jax.txt"))
    return text.replace("workloads_dir: .", f"workloads_dir: {repo / 'tests' / 'workloads'}")


def run(tmp_path: Path, text: str, *extra: str) -> int:
    path = tmp_path / "matrix.yaml"
    path.write_text(text)
    return main(["run", str(path), "--results-dir", str(tmp_path / "results"), "--run-id", "bad",
                 "--cache-dir", str(tmp_path / "cache"), *extra])


def test_malformed_yaml(tmp_path: Path, matrix_text: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(tmp_path, matrix_text.replace("seed: 1\n", "seed: [1\n")) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path / 'matrix.yaml'}:" in err and "not valid YAML" in err
    assert not (tmp_path / "results").exists()  # nothing started


def test_unknown_environment(tmp_path: Path, matrix_text: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(tmp_path, matrix_text, "--env", "keras3-nope") == 2
    err = capsys.readouterr().err
    assert "--env keras3-nope: not in" in err and "choose from: keras3-jax" in err


def test_missing_interpreter_fails_that_environment_only(tmp_path: Path, matrix_text: str,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    text = matrix_text.replace('    python: "3.11"\n', '    python: "3.5"\n')
    assert run(tmp_path, text, "--workload", "sleepy", "--workload", "raises") == 1
    results = load_cells(tmp_path / "results" / "bad").results
    assert [r.status for r in results] == ["failed", "failed"]
    error = results[0].error
    assert error is not None and error.type == "InterpreterNotFound" and results[0].attempts == 1
    assert "no Python 3.5 interpreter found" in error.message and "pyenv install 3.5" in error.message
    text = matrix_text.replace('    python: "3.11"\n', '    python: "3.11"\n    interpreter: /nonexistent/python3.11\n')
    assert run(tmp_path, text, "--workload", "sleepy", "--run-id", "bad2") == 1
    result = load_cells(tmp_path / "results" / "bad2").results[0]
    assert "interpreter /nonexistent/python3.11 (set in the matrix) does not run" in result.reason


def test_missing_data_directory(tmp_path: Path, matrix_text: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(tmp_path, matrix_text, "--data-dir", str(tmp_path / "no-such-data")) == 2
    assert f"data directory {tmp_path / 'no-such-data'}" in capsys.readouterr().err


def test_unwritable_results_directory(tmp_path: Path, matrix_text: str, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    (tmp_path / "matrix.yaml").write_text(matrix_text)
    rc = main(["run", str(tmp_path / "matrix.yaml"), "--results-dir", str(blocker / "results")])
    assert rc == 2
    err = capsys.readouterr().err
    assert f"results directory {blocker / 'results'}" in err and "is not writable" in err and "--results-dir" in err


def test_resume_needs_an_existing_run(tmp_path: Path, matrix_text: str, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "matrix.yaml").write_text(matrix_text)
    assert main(["run", str(tmp_path / "matrix.yaml"), "--resume"]) == 2
    assert "--resume needs --run-id" in capsys.readouterr().err
    assert run(tmp_path, matrix_text, "--resume") == 2
    assert "--resume: no run 'bad'" in capsys.readouterr().err


def test_missing_workloads_dir(tmp_path: Path, matrix_text: str, capsys: pytest.CaptureFixture[str]) -> None:
    text = matrix_text.replace(f"workloads_dir: {Path(__file__).parent / 'workloads'}", "workloads_dir: nowhere")
    assert run(tmp_path, text) == 2
    assert "workloads_dir: folder 'nowhere' not found" in capsys.readouterr().err
