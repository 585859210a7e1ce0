"""Sequential repeats: the pure rule (looks, alpha spent over them, which environments need another round, why a
pair stopped), and a real small run (the sleepy test workload in the suite's keras3-jax environment and a twin
of it) that adds a round only while a pair is undecided, stops on a tiny budget, and resumes."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import yaml

from orchestrator.analysis.ranks import exact_p
from orchestrator.analysis.sequential import PairState, design, next_round, sequential_p, stop_reason
from orchestrator.cli import main
from orchestrator.workflows.rounds import cell_seconds, parse_budget
from orchestrator.core.errors import ConfigError
from orchestrator.config.load import load_matrix
from orchestrator.results.io import load_cells
from orchestrator.runtimes.local import LocalRuntime

PLAN = design(3)


def test_the_design_has_fixed_looks_and_spends_alpha_once() -> None:
    assert PLAN.looks == (3, 6, 9, 12) and sum(PLAN.spending) == pytest.approx(1.0)
    with pytest.raises(ValueError):
        design(3, spending=(0.5, 0.6, 0.0, 0.0))


def test_the_sequential_p_is_the_smallest_spent_p_over_the_looks_taken() -> None:
    rng = random.Random(3)
    a = [rng.lognormvariate(0, 0.05) for _ in range(9)]
    b = [1.3 * rng.lognormvariate(0, 0.05) for _ in range(9)]
    expected = min(exact_p(a[:6], b[:6]) / 0.4, exact_p(a[:9], b[:9]) / 0.1, 1.0)
    assert sequential_p(a, b, PLAN) == pytest.approx(expected)
    assert sequential_p(a[:3], b[:3], PLAN) == 1.0  # nothing spent at the first look
    assert sequential_p(a, b, design(3).__class__()) == pytest.approx(exact_p(a, b))  # fixed size: one look


def test_only_undecided_pairs_get_another_round_up_to_the_last_look() -> None:
    pairs = [PairState("tf", "jax", 3, 3, "no clear difference", workload="w", profile="p"),
             PairState("tf", "cntk", 3, 3, "slower", workload="w", profile="p"),
             PairState("tf", "nan", 3, 3, "no clear difference", valid=False, workload="w", profile="p"),
             PairState("cntk", "theano", 6, 9, "tie", workload="w", profile="p")]
    assert next_round(pairs, PLAN) == {("tf", "w", "p"): 6, ("jax", "w", "p"): 6}
    last = [PairState("tf", "jax", 12, 12, "no clear difference")]
    assert next_round(last, PLAN) == {}
    assert stop_reason(pairs[1], PLAN) == "decided" and stop_reason(last[0], PLAN) == "max looks"
    assert stop_reason(pairs[0], PLAN) == "budget spent"
    assert next_round(pairs, design(3).__class__()) == {}  # fixed repeats: no rounds


def test_budgets_are_durations() -> None:
    assert parse_budget("15m") == 900 and parse_budget("900") == 900 and parse_budget("1.5h") == 5400
    assert parse_budget("off") is None
    with pytest.raises(ConfigError, match="--budget '15 minutes'"):
        parse_budget("15 minutes")


def test_the_budget_counts_the_cells_own_time_not_builds() -> None:
    from test_verdicts import cell

    timed = cell("cntk", "mnist_mlp", 0, 1.0).model_copy(
        update={"started_at": "2026-12-02T17:00:00+00:00", "finished_at": "2026-12-02T17:00:09+00:00"})
    assert cell_seconds([timed, cell("cntk", "mnist_mlp", 1, 1.0)]) == (9.0, 1)  # untimed: not counted


@pytest.fixture(scope="module")
def jax_python(repo: Path, env_cache: Path) -> Path:
    return LocalRuntime(load_matrix(repo / "matrix.yaml"), env_cache).prepare("keras3-jax").paths.python


def _matrix(repo: Path, tmp_path: Path, python: Path, budget: str) -> Path:
    raw = yaml.safe_load((repo / "tests" / "workloads" / "matrix.yaml").read_text())
    raw["workloads_dir"] = str(repo / "tests" / "workloads")
    raw["environments"]["keras3-jax"]["requirements"] = str(repo / "requirements" / "keras3-jax.txt")
    raw["environments"]["twin"] = {"backend": "jax", "keras": "3.15.1", "python": str(python), "build": "none"}
    raw["profiles"]["seq"] = {"epochs": 3, "repeats": 1, "timeout_s": 300, "data": "synthetic", "budget": budget}
    raw["default"] = {"profile": "seq", "workloads": ["sleepy"], "environments": ["keras3-jax", "twin"]}
    raw["reference"] = "keras3-jax"
    path = tmp_path / "matrix.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


@pytest.mark.integration
def test_a_real_run_adds_rounds_while_undecided_and_resumes(repo: Path, tmp_path: Path, env_cache: Path,
                                                           jax_python: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    matrix = _matrix(repo, tmp_path, jax_python, "10m")
    common = [str(matrix), "--results-dir", str(tmp_path / "results"), "--cache-dir", str(env_cache),
              "--runtime", "local", "--monitor-hz", "0"]
    # 1 repeat each: no verdict, so a second round (interleaved: r1 of both); 2 against 2: a 67% interval, too
    # weak for a tie; 3 against 3 sleeping 0.5 s an epoch: a tie (a 90% interval within 5%), decided, no 4th round.
    assert main(["run", *common, "--run-id", "seq"]) == 0
    out = capsys.readouterr().out
    results = load_cells(tmp_path / "results" / "seq").results
    assert sorted(r.cell_id for r in results) == [f"{e}__sleepy__seq__r{i}" for e in ("keras3-jax", "twin")
                                                 for i in (0, 1, 2)]
    assert "sequential repeats: 2 more cell(s)" in out
    report = (tmp_path / "results" / "seq" / "report" / "report.html").read_text()
    assert "Sequential repeats" in report and "3 + 3" in report and "decided" in report
    # --resume: the same rule on the same results asks for nothing more
    assert main(["run", *common, "--run-id", "seq", "--resume"]) == 0
    assert len(load_cells(tmp_path / "results" / "seq").results) == 6
    capsys.readouterr()
    # a budget smaller than one round: the first round only, and the report says why the pair stopped
    assert main(["run", *common, "--run-id", "tiny", "--budget", "1s"]) == 0
    out = capsys.readouterr().out
    assert len(load_cells(tmp_path / "results" / "tiny").results) == 2
    assert "budget 0.0166667 min spent" in out or "min spent" in out
    assert "budget spent" in " ".join(out.split())


def test_a_bad_budget_in_the_matrix_names_the_field(repo: Path, tmp_path: Path) -> None:
    raw = yaml.safe_load((repo / "matrix.yaml").read_text())
    assert raw["profiles"]["compare"]["budget"] == "15m"  # the default run is sequential
    raw["profiles"]["compare"]["budget"] = "a quarter of an hour"
    path = tmp_path / "matrix.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(ConfigError, match="budget"):
        load_matrix(path)
