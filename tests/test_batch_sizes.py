"""`orchestrate run --batch-size 32,128,512` (config/batch_sizes.py): the sizes read at the edge with exact errors
(exit 2, nothing started), one profile `<profile>.bs<size>` per size whose cells train at that size, on a matrix's
workloads and on a `--model` file, with plain cell ids; and the options reach the RunRequest and its resume command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator.cli import main, parser
from orchestrator.commands.run import request
from orchestrator.config.adhoc import with_model
from orchestrator.config.batch_sizes import parse_batch_sizes, size_profile, sized, with_batch_sizes
from orchestrator.config.load import load_matrix
from orchestrator.core.errors import ConfigError
from orchestrator.core.paths import name_problem
from orchestrator.workflows.run import chosen, expand_all, resume_command


def test_sizes_are_read_in_the_order_given() -> None:
    assert parse_batch_sizes("32,128,512") == (32, 128, 512)
    assert parse_batch_sizes(" 512, 32 ") == (512, 32)
    assert parse_batch_sizes("64") == (64,)


@pytest.mark.parametrize(("text", "message"), [
    ("0,abc", "--batch-size 0,abc: 0 is not a batch size; give sizes from 1 to 65536, e.g. --batch-size 32,128,512"),
    ("32,abc", ("--batch-size 32,abc: 'abc' is not a whole number; give batch sizes from 1 to 65536 separated by "
                "commas, e.g. --batch-size 32,128,512")),
    ("32,,64", "--batch-size 32,,64: an empty size; give batch sizes from 1 to 65536"),
    ("-8", "--batch-size -8: '-8' is not a whole number"),
    ("1.5", "--batch-size 1.5: '1.5' is not a whole number"),
    ("70000", "--batch-size 70000: 70000 is not a batch size"),
    ("32,32", "--batch-size 32,32: 32 is given twice; give each size once"),
])
def test_bad_sizes_are_refused_naming_the_option_and_the_value(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_batch_sizes(text)
    assert str(caught.value).startswith(message)


def test_a_bad_size_stops_the_command_line_with_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--batch-size", "0,abc", "--results-dir", str(tmp_path / "results")]) == 2
    assert capsys.readouterr().err.strip() == \
        "error: --batch-size 0,abc: 0 is not a batch size; give sizes from 1 to 65536, e.g. --batch-size 32,128,512"
    assert not (tmp_path / "results").exists()
    proc = subprocess.run([sys.executable, "-m", "orchestrator.cli", "run", "--batch-size", "abc"],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and "--batch-size abc: 'abc'" in proc.stderr
    assert main(["run", "--train-steps", "0"]) == 2
    assert "--train-steps 0: must be between 1 and" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # argparse: one length or the other
        parser().parse_args(["run", "--train-steps", "5", "--train-epochs", "2"])


def test_each_size_is_a_profile_of_its_own_with_every_workload_at_that_size(repo: Path) -> None:
    loaded = load_matrix(repo / "matrix.yaml")
    args = parser().parse_args(["run", str(repo / "matrix.yaml"), "--profile", "smoke", "--batch-size", "32,512",
                                "--env", "keras3-jax", "--env", "keras3-torch", "--workload", "mnist_mlp",
                                "--workload", "cifar10_cnn", "--train-steps", "500"])
    req = request(args)
    assert (req.batch_sizes, req.train_steps, req.length.steps) == ((32, 512), 500, 500)
    sized_matrix = with_batch_sizes(loaded, req.batch_sizes, req.profile)
    assert {"smoke.bs32", "smoke.bs512"} <= set(sized_matrix.matrix.profiles)
    smoke = sized_matrix.matrix.profiles["smoke.bs32"]
    assert smoke.workloads["cifar10_cnn"].steps_per_epoch == 8  # the profile's own overrides are kept
    cells = expand_all(req, sized_matrix, dict(**chosen(req, sized_matrix), data=None, timeout_s=None))
    assert [(c.profile, c.workload, c.environment, c.batch_size) for c in cells] == [
        ("smoke.bs32", "mnist_mlp", "keras3-jax", 32), ("smoke.bs32", "mnist_mlp", "keras3-torch", 32),
        ("smoke.bs32", "cifar10_cnn", "keras3-jax", 32), ("smoke.bs32", "cifar10_cnn", "keras3-torch", 32),
        ("smoke.bs512", "mnist_mlp", "keras3-jax", 512), ("smoke.bs512", "mnist_mlp", "keras3-torch", 512),
        ("smoke.bs512", "cifar10_cnn", "keras3-jax", 512), ("smoke.bs512", "cifar10_cnn", "keras3-torch", 512)]
    assert cells[0].cell_id == "keras3-jax__mnist_mlp__smoke.bs32__r0"
    assert all(name_problem(c.cell_id) is None for c in cells)
    assert [c.epochs for c in cells] == [2] * 8 and {c.train_samples for c in cells} == {512}
    command = resume_command(req, "r1")
    assert "--batch-size 32,512" in command and "--train-steps 500" in command


def test_a_model_file_runs_at_each_size_on_the_default_profile(repo: Path) -> None:
    loaded = with_model(load_matrix(repo / "matrix.yaml"), str(repo / "examples" / "my_model.py"))
    args = parser().parse_args(["run", "--model", str(repo / "examples" / "my_model.py"), "--batch-size", "64,256"])
    req = request(args)
    sized_matrix = with_batch_sizes(loaded, req.batch_sizes, req.profile)
    cells = expand_all(req, sized_matrix, dict(**chosen(req, sized_matrix), data=None, timeout_s=None))
    assert {(c.profile, c.batch_size) for c in cells} == {("compare.bs64", 64), ("compare.bs256", 256)}
    assert {c.workload for c in cells} == {"my_model"} and len(cells) == 2 * 3 * 3  # sizes x repeats x backends
    assert sized_matrix.matrix.default.profile == "compare"  # the size profiles are run, not made the default


def test_size_profile_names_read_back_and_collisions_are_refused(repo: Path) -> None:
    assert size_profile("compare", 128) == "compare.bs128" and sized("compare.bs128") == ("compare", 128)
    assert sized("compare") is None and sized("x.bs") is None and sized("x.bs012") is None
    loaded = load_matrix(repo / "matrix.yaml")
    assert with_batch_sizes(loaded, (), None) is loaded
    with pytest.raises(ConfigError, match="--profile nope: not in .*choose from: smoke"):
        with_batch_sizes(loaded, (32,), "nope")
    twice = with_batch_sizes(loaded, (32,), "smoke")
    with pytest.raises(ConfigError, match="--batch-size 32: .* already has a profile 'smoke.bs32'"):
        with_batch_sizes(twice, (32,), "smoke")


@pytest.mark.integration
def test_a_batch_size_sweep_with_a_training_length_end_to_end(repo: Path, env_cache: Path, data_dir: Path,
                                                                tmp_path: Path) -> None:
    """4 real smoke cells (about 40 s on 2 cores): the example model on keras3-jax and keras3-torch at batch sizes
    32 and 128, one repeat; each size its own verdict rows, the break-even's totals for 500 steps and the batch-size
    line in the ending, the break-even table and every pair's crossover (or unchanged order) in report.html."""
    proc = subprocess.run(
        [sys.executable, "-m", "orchestrator.cli", "run", "--model", str(repo / "examples" / "my_model.py"),
         "--env", "keras3-jax", "--env", "keras3-torch", "--profile", "smoke", "--batch-size", "32,128",
         "--train-steps", "500", "--data-dir", str(data_dir), "--cache-dir", str(env_cache), "--store", "off",
         "--results-dir", str(tmp_path), "--run-id", "sweep"], capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    from orchestrator.results.io import load_cells

    cells = {r.cell_id: r for r in load_cells(tmp_path / "sweep").results}
    assert {(c.environment.name, c.workload.profile, c.workload.batch_size) for c in cells.values()} == {
        (env, f"smoke.bs{size}", size) for env in ("keras3-jax", "keras3-torch") for size in (32, 128)}
    out = " ".join(proc.stdout.split())  # rich may wrap long lines
    for size in (32, 128):
        assert f"my_model (smoke.bs{size})" in out  # its own verdict rows
        assert f"for 500 steps on my_model (smoke.bs{size}) (predicted): keras3-" in out
    assert "at every batch size (32, 128) on my_model (smoke)" in out or \
        "at 128; keras3-" in out  # the batch-size crossover line, whichever backend wins where
    page = (tmp_path / "sweep" / "report" / "report.html").read_text()
    assert 'id="break-even"' in page and 'id="batch-sweep"' in page and "total s for 500 steps" in page
    assert page.count(" overtakes ") + page.count(" at every length (") >= 2  # one pair line per size
