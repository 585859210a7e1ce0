"""Sequential repeats: the pure rule (looks, alpha spent over them, which environments need another round, why a
pair stopped), and a real small run (the sleepy test workload in the suite's keras3-jax environment and a twin
of it) that adds a round only while a pair is undecided, stops on a tiny budget, and resumes."""

from __future__ import annotations

import math
import random
from pathlib import Path

import pytest
import yaml
from scipy.stats import ttest_ind

from orchestrator.analysis.ranks import exact_p
from orchestrator.analysis.robust import kept, set_aside, tost_p, welch_p
from orchestrator.analysis.sequential import (
    PairState,
    design,
    next_round,
    sequential_p,
    sequential_tie_p,
    stop_reason,
)
from orchestrator.analysis.verdicts.pairs import pair_test
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
    # Welch's p at the looks at 3 and 6 (spent 0.15 and 0.2), the exact rank-sum p at 9 (0.05)
    expected = min(welch_p(a[:3], b[:3]) / 0.15, welch_p(a[:6], b[:6]) / 0.2, exact_p(a[:9], b[:9]) / 0.05, 1.0)
    assert sequential_p(a, b, PLAN) == pytest.approx(expected)
    assert sequential_p(a, b, design(3).__class__()) == pytest.approx(exact_p(a, b))  # fixed size: one look


def test_the_first_look_decides_a_clear_difference_and_not_a_small_one() -> None:
    a, b = [1.0, 1.03, 0.98], [1.3, 1.33, 1.27]  # 30% apart at CV 2%: Welch t about 14
    assert sequential_p(a, b, PLAN) <= 0.05 / 8  # survives Holm over 8 decisions at the first look
    assert exact_p(a, b) == pytest.approx(0.1)  # the rank-sum test could not (its smallest p at 3 against 3)
    near = [1.02, 1.05, 1.0]  # 2% apart: nowhere near
    assert sequential_p(a, near, PLAN) > 0.5
    logs = [math.log(v) for v in a], [math.log(v) for v in near]
    assert welch_p(a, near) == pytest.approx(ttest_ind(*logs, equal_var=False).pvalue, rel=1e-9)  # 0.386


def test_a_missing_repeat_keeps_the_look_it_reached() -> None:
    a = [1.0, 1.01, 0.99, 1.02, 0.98]  # one of six repeats failed
    b = [1.3, 1.31, 1.29, 1.32, 1.28, 1.3]
    # before: the look at 6 needed 6 a side, so 5 against 6 had no look with alpha spent and p = 1
    look_6 = welch_p(a, b) / 0.2
    assert sequential_p(a, b, PLAN) == pytest.approx(min(look_6, welch_p(a[:3], b[:3]) / 0.15))
    assert sequential_p(a, b, PLAN) < 1e-6
    assert sequential_p(a[:2], b, PLAN) == pytest.approx(welch_p(a[:2], b[:3]) / 0.15)  # A's round for 6 did not run
    later = b[:6] + [1.3] * 3  # 5 against 9: the looks at 3 and 6 only
    assert sequential_p(a, later, PLAN) == sequential_p(a, b, PLAN)


def test_a_tie_spends_alpha_over_the_looks_like_a_difference() -> None:
    rng = random.Random(4)
    a = [rng.lognormvariate(0, 0.005) for _ in range(12)]
    b = [rng.lognormvariate(0, 0.005) for _ in range(12)]
    bound = 0.0488
    assert sequential_tie_p(a[:3], b[:3], PLAN, bound) > 0.05  # no tie at 3 against 3: 0.05 / 0.15 at best
    expected = min(tost_p(a[:3], b[:3], bound) / 0.15, tost_p(a[:6], b[:6], bound) / 0.2,
                   tost_p(a[:9], b[:9], bound) / 0.05, tost_p(a, b, bound) / 0.6)
    assert sequential_tie_p(a, b, PLAN, bound) == pytest.approx(expected)
    assert sequential_tie_p(a[:3], b[:3], design(3).__class__(), bound) == pytest.approx(0.05)  # fixed size


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


def test_a_slow_repeat_is_set_aside_and_a_fast_one_never() -> None:
    steady = [1.0, 1.02, 0.98, 1.5, 1.01, 0.99]
    assert set_aside(steady) == [False, False, False, True, False, False] and kept(steady) == steady[:3] + steady[4:]
    assert not any(set_aside([1.0, 1.02, 0.98, 0.6, 1.01, 0.99]))  # a fast repeat is not interference
    assert not any(set_aside([1.0, 1.0, 1.0, 1.01, 1.0, 1.15]))  # under 20% slower: kept, however far in MADs
    assert not any(set_aside([1.0, 1.5, 1.0, 1.5, 1.0, 1.5]))  # half of them slow: how it runs, not strays
    assert not any(set_aside([1.0, 1.5]))  # under 3 repeats: no median to be far from


def test_a_set_aside_repeat_is_replaced_and_its_replacement_takes_its_place_in_the_looks() -> None:
    a = [1.0, 1.01, 0.99, 1.02, 0.98, 1.0]
    b = [1.3, 1.31, 1.95, 1.29, 1.32, 1.28, 1.3]  # its third repeat was slowed: the seventh replaces it
    assert sequential_p(a, b, PLAN) == sequential_p(a, b[:2] + b[3:], PLAN)
    waiting = [PairState("tf", "jax", 6, 6, "no clear difference", workload="w", profile="p", aside_b=1)]
    assert waiting[0].kept == 5  # the look at 6 needs one more of jax: 7 ok repeats, one of them set aside
    assert next_round(waiting, PLAN) == {("tf", "w", "p"): 6, ("jax", "w", "p"): 7}
    at_last = PairState("tf", "jax", 12, 13, "no clear difference", aside_b=1)
    assert stop_reason(at_last, PLAN) == "max looks" and next_round([at_last], PLAN) == {}


def test_the_report_shows_the_repeats_set_aside_and_asks_for_their_replacement() -> None:
    from test_verdicts import cell

    from orchestrator.analysis.stats import group_results
    from orchestrator.analysis.verdicts import assemble
    from orchestrator.analysis.verdicts.family import pair_states
    from orchestrator.analysis.verdicts.settings import Settings

    times = {"tensorflow1": [1.0, 1.06, 0.95, 1.03, 1.0, 0.97], "keras3-jax": [1.02, 1.6, 1.08, 0.99, 1.05, 1.04]}
    cells = [cell(env, "mnist_mlp", r, t) for env, ts in times.items() for r, t in enumerate(ts)]
    report = assemble.build(group_results(cells), Settings(reference="tensorflow1", looks=PLAN.looks,
                                                           spending=PLAN.spending))
    (_, pair, repeats, _, _), = report.stopping()
    assert pair == "tensorflow1 vs keras3-jax" and repeats == "6 + 6 (0 + 1 set aside as slow)"
    assert next_round(pair_states(report.workloads), PLAN) == {("tensorflow1", "mnist_mlp", "compare"): 6,
                                                               ("keras3-jax", "mnist_mlp", "compare"): 7}


def test_a_look_waits_for_the_replacement_of_a_repeat_set_aside() -> None:
    """Seen in a default run: keras3-jax's third repeat set aside, and the look at 3 read on its 2 other repeats
    decided "faster" while the interval, on all three, held 1. Now the look waits for the replacement."""
    reference = [0.36, 0.35, 0.37, 0.36, 0.34, 0.36, 0.35, 0.37, 0.36]
    jax = [0.21, 0.22, 0.45]
    assert sequential_p(reference, jax, PLAN) == 1.0  # no look read yet: the replacement is pending
    assert sequential_p(reference, jax + [0.21], PLAN) < 0.05 / 8  # read at 3 kept against 3
    test = pair_test(reference, jax, plan=PLAN)
    assert test.verdict == "no clear difference" and test.aside_b == 1
    assert test.high is not None and test.high < 0.7  # the interval is the kept repeats'


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
    raw["environments"]["keras3-jax"]["warm_start"] = True  # rounds of forked cells (a sleeping workload: its
    # times do not depend on the process's memory layout, the warm start's bias on real ones; docs/measuring.md)
    raw["environments"]["twin"] = {"backend": "jax", "keras": "3.15.1", "python": str(python), "build": "none",
                                   "warm_start": True}
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
    # 1 repeat each: no verdict, so more rounds (interleaved: r1 of both, ...). Ties spend alpha over the looks
    # (1, 2, 3, 4 repeats; fractions 0.15, 0.2, 0.05, 0.6) like differences, so a tie needs an equivalence p at
    # most alpha x fraction: 2 against 2 (best one-sided p 1/6) and 3 against 3 (0.05 / 0.05) cannot; 4 against 4
    # sleeping 0.5 s an epoch can (1/70 / 0.6 = 0.024), and is the last look. Before, a tie was tested at full
    # alpha at every look and this pair stopped at 3 against 3, which let false ties exceed alpha.
    assert main(["run", *common, "--run-id", "seq"]) == 0
    out = capsys.readouterr().out
    results = load_cells(tmp_path / "results" / "seq").results
    assert sorted(r.cell_id for r in results) == [f"{e}__sleepy__seq__r{i}" for e in ("keras3-jax", "twin")
                                                 for i in (0, 1, 2, 3)]
    assert "sequential repeats: 2 more cell(s)" in out
    assert all(r.timings.warm_start for r in results)  # every round's cells forked from the two warm parents
    report = (tmp_path / "results" / "seq" / "report" / "report.html").read_text()
    assert "Sequential repeats" in report and "4 + 4" in report
    # --resume: the same rule on the same results asks for nothing more
    assert main(["run", *common, "--run-id", "seq", "--resume"]) == 0
    assert len(load_cells(tmp_path / "results" / "seq").results) == 8
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
