"""Each row of the table of bad inputs (docs/faults.md), run through `orchestrate run`: a clear message, the right
exit code, and nothing already measured lost. (Missing data inside a cell: tests/test_local_runtime.py;
a results file edited by hand: tests/test_run_survives.py.)"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator.cli import main
from orchestrator.commands._options import host_port, number
from orchestrator.environments.layout import env_paths
from orchestrator.core.errors import ConfigError
from orchestrator.core.paths import inside, name_problem, safe_name
from orchestrator.rundir.layout import RunDir
from orchestrator.results.io import load_cells


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


# Numbers and names on the command line: refused by the option's type, before the matrix is even read.
OPTION_REFUSALS = [
    (["--slots", "0"], "--slots 0: must be between 1 and 256"),
    (["--slots", "two"], "--slots two: not a whole number; give one between 1 and 256"),
    (["--timeout", "0"], "--timeout 0: must be more than 0 and at most 604800 seconds"),
    (["--timeout", "nan"], "--timeout nan: must be more than 0 and at most 604800 seconds"),
    (["--monitor-hz", "5000"], "--monitor-hz 5000: must be between 0 and 1000 (0: off)"),
    (["--run-id", "../elsewhere"], "--run-id '../elsewhere': is not a plain name: use letters, digits and . _ -"),
    (["--run-id", ".hidden"], "--run-id '.hidden': is not a plain name"),
    (["--run-id", "r" * 65], "is 65 characters long; a name has at most 64"),
    (["--address", "localhost"], "--address localhost: write HOST:PORT with a port from 1 to 65535"),
    (["--address", "127.0.0.1:70000"], "--address 127.0.0.1:70000: write HOST:PORT"),
]


OPTION_IDS = ["slots-0", "slots-word", "timeout-0", "timeout-nan", "monitor-hz-5000", "run-id-parent", "run-id-hidden",
              "run-id-too-long", "address-no-port", "address-port-70000"]


@pytest.mark.parametrize(("extra", "message"), OPTION_REFUSALS, ids=OPTION_IDS)
def test_option_out_of_range(tmp_path: Path, matrix_text: str, capsys: pytest.CaptureFixture[str],
                             extra: list[str], message: str) -> None:
    assert run(tmp_path, matrix_text, *extra) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err
    assert not (tmp_path / "results").exists() and not (tmp_path / "cache").exists()  # nothing started


def test_option_refusal_prints_no_traceback(tmp_path: Path) -> None:
    """The option types raise through argparse: the real console script must still print one line, exit 2."""
    proc = subprocess.run([sys.executable, "-m", "orchestrator.cli", "run", "--slots", "0"],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == "error: --slots 0: must be between 1 and 256"


def test_report_options_are_checked_before_the_run_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(tmp_path), "--noise-cv", "1.5"]) == 2
    assert "--noise-cv 1.5: must be more than 0 and less than 1" in capsys.readouterr().err
    assert main(["report", str(tmp_path), "--target", "mnist_mlp"]) == 2
    assert "--target 'mnist_mlp': write WORKLOAD=ACCURACY" in capsys.readouterr().err
    assert main(["report", str(tmp_path / "nowhere")]) == 2
    assert f"{tmp_path / 'nowhere'}: not a run folder (no cells/ inside)" in capsys.readouterr().err
    assert not (tmp_path / "report").exists()


def test_missing_matrix_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(tmp_path / "nope.yaml"), "--results-dir", str(tmp_path / "results")]) == 2
    assert f"{tmp_path / 'nope.yaml'}: matrix file not found" in capsys.readouterr().err
    assert not (tmp_path / "results").exists()


def test_unknown_runtime(tmp_path: Path, matrix_text: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(tmp_path, matrix_text, "--runtime", "kubernetes") == 2
    assert "--runtime kubernetes" in capsys.readouterr().err
    assert not list((tmp_path / "results" / "bad" / "cells").glob("*.json"))


def test_unusable_cache_and_data_folders(tmp_path: Path, matrix_text: str, capsys: pytest.CaptureFixture[str]) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder")
    path = tmp_path / "matrix.yaml"
    path.write_text(matrix_text)
    results = str(tmp_path / "results")
    assert main(["run", str(path), "--results-dir", results, "--cache-dir", str(a_file)]) == 2
    assert (f"error: cache directory {a_file} (from --cache-dir, ORCHESTRATE_CACHE_DIR, or beside the matrix) "
            "is not a writable folder (a file is there); choose another with --cache-dir") in capsys.readouterr().err
    assert main(["run", str(path), "--results-dir", results, "--data-dir", str(a_file)]) == 2
    assert f"data directory {a_file} (from --data-dir or ORCHESTRATE_DATA_DIR) is a file, not a folder" \
        in capsys.readouterr().err
    assert not list((tmp_path / "results").rglob("*.json"))  # nothing ran


# Names that become paths, refused where the paths are built (a second guard behind the CLI and the matrix).
def test_run_dir_refuses_a_run_id_that_leaves_the_results_directory(tmp_path: Path) -> None:
    for bad in ("..", "../x", "a/b", "/abs", "-rf", ""):
        with pytest.raises(ConfigError, match="run id"):
            RunDir(tmp_path, bad)
    run_dir = RunDir(tmp_path, "ok-run_1.2")
    assert run_dir.path == tmp_path.resolve() / "ok-run_1.2"
    with pytest.raises(ConfigError, match=r"cell id '\.\./\.\./x': .* would lie outside"):
        run_dir.cell_path("../../x")
    assert run_dir.cell_path("env__wl__quick__r0") == run_dir.cells_dir / "env__wl__quick__r0.json"


def test_environment_folders_stay_in_the_cache(tmp_path: Path) -> None:
    assert env_paths(tmp_path, "keras3-jax").root == tmp_path / "envs" / "keras3-jax"
    for bad in ("..", "../../etc", "a/b", ".hidden"):
        with pytest.raises(ConfigError, match="environment name"):
            env_paths(tmp_path, bad)


def test_inside_checks_the_written_path(tmp_path: Path) -> None:
    assert inside(tmp_path, tmp_path / "a" / "b", "x") == tmp_path / "a" / "b"
    assert inside(tmp_path, tmp_path, "x") == tmp_path
    for outside in (tmp_path / ".." / "b", tmp_path.parent, Path("/etc/passwd")):
        with pytest.raises(ConfigError, match="would lie outside"):
            inside(tmp_path, outside, "x")
    assert safe_name("keras3-jax", "--env") == "keras3-jax"
    assert name_problem("mnist_mlp.v2") is None
    assert name_problem("trailing-") and name_problem("a b") and name_problem("é") and name_problem(3)


def test_no_numeric_option_goes_unchecked() -> None:
    """Every option of every command that takes a number reads it through a range-checking type."""
    from orchestrator.cli import parser

    commands = next(a for a in parser()._actions if isinstance(a, argparse._SubParsersAction)).choices
    unchecked = [f"{name} {'/'.join(action.option_strings)}" for name, sub in commands.items()
                 for action in sub._actions if action.type in (int, float)]
    assert not unchecked, f"options without a range: {unchecked}"
    assert {"--slots", "--timeout", "--monitor-hz"} <= {o for a in commands["run"]._actions for o in a.option_strings
                                                        if a.type is not None}


def test_option_types_accept_what_is_in_range() -> None:
    slots = number("--slots", int, 1, 256)
    assert (slots("1"), slots("256")) == (1, 256)
    with pytest.raises(ConfigError, match="--slots 257: must be between 1 and 256"):
        slots("257")
    timeout = number("--timeout", float, 0.0, 10.0, low_open=True)
    assert timeout("0.5") == 0.5 and timeout("10") == 10.0
    with pytest.raises(ConfigError, match="--timeout inf: must be more than 0 and at most 10"):
        timeout("inf")
    address = host_port("--address")
    for good in ("127.0.0.1:6379", "localhost:1", "ray://10.0.0.4:10001", "[::1]:6379", "auto"):
        assert address(good) == good
    for bad in (":6379", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:http"):
        with pytest.raises(ConfigError, match="write HOST:PORT"):
            address(bad)
