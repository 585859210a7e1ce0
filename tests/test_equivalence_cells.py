"""The equivalence check in real Keras 3 cells (workloads/equivalence.py), one small run shared: a user's residual CNN
with BatchNorm, GELU, AdamW and label smoothing (tests/user_models/batchnorm_model.py) trained briefly on real MNIST
on keras3-jax, keras3-torch and keras3-torch+perturbed (ORCHESTRATE_PERTURB_WEIGHTS=0.1 through the configuration's
`env:`). Its training accuracy rises but its test accuracy stays at chance on every backend (BatchNorm's moving
statistics not settled): before the check that run was "no valid backend"; now jax and torch count, with the named
note, and the perturbed row is excluded with its numbers. About 45 s of cells on a 2-core machine."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator.analysis.stats import group_results
from orchestrator.analysis.verdicts.validity import CHANCE_EVERYWHERE
from orchestrator.analysis.verdicts.workloads import workload_verdicts
from orchestrator.results.io import load_cells

MODELS = Path(__file__).resolve().parent / "user_models"
ENVS = ("keras3-jax", "keras3-torch", "keras3-torch+perturbed")


@pytest.fixture(scope="module")
def brief_run(repo: Path, env_cache: Path, data_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("equivalence")
    shutil.copytree(MODELS, folder / "models")
    matrix = folder / "models" / "matrix.yaml"
    matrix.write_text(matrix.read_text().replace("../../requirements", str(repo / "requirements")))
    proc = subprocess.run(
        [sys.executable, "-m", "orchestrator.cli", "run", str(matrix), *[a for e in ENVS for a in ("--env", e)],
         "--workload", "batchnorm_model", "--profile", "brief", "--run-id", "brief", "--results-dir",
         str(folder / "results"), "--cache-dir", str(env_cache), "--data-dir", str(data_dir)],
        capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    results = {r.environment.name: r for r in load_cells(folder / "results" / "brief").results}
    return proc.stdout, results


@pytest.mark.integration
def test_every_keras3_cell_records_the_check_on_the_same_batch_and_weights(brief_run) -> None:
    _, results = brief_run
    assert sorted(results) == sorted(ENVS) and all(r.status == "ok" for r in results.values())
    records = {env: r.equivalence for env, r in results.items()}
    assert all(rec is not None and rec["errors"] == {} for rec in records.values()), records
    assert len({(rec["batch"]["sha256"], rec["weights_sha256"]) for rec in records.values()}) == 1
    jax = records["keras3-jax"]
    assert jax["weights_via"] == "load_weights(.weights.h5)" and jax["batch"]["samples"] == 8
    assert jax["outputs"]["shape"] == [8, 10] and len(jax["outputs"]["sample"]) == 80
    assert jax["loss"] == pytest.approx(records["keras3-torch"]["loss"], rel=1e-5)
    assert records["keras3-torch+perturbed"]["perturbed"] == 0.1
    assert results["keras3-torch+perturbed"].threads.env["ORCHESTRATE_PERTURB_WEIGHTS"] == "0.1"
    # trained from the model's own initial weights as before: the perturbed row trained as its base did
    assert [e.loss for e in results["keras3-torch+perturbed"].metrics.per_epoch] == pytest.approx(
        [e.loss for e in results["keras3-torch"].metrics.per_epoch], rel=1e-3)


@pytest.mark.integration
def test_at_chance_everywhere_the_same_model_gets_a_speed_verdict_and_the_perturbed_row_is_excluded(brief_run) -> None:
    stdout, results = brief_run
    assert all(r.metrics.test["accuracy"] < 0.15 for r in results.values())  # at chance on every backend
    assert all(r.metrics.per_epoch[-1].accuracy > r.metrics.per_epoch[0].accuracy for r in results.values())
    (verdict,) = workload_verdicts(group_results(list(results.values())))
    assert [r.environment for r in verdict.excluded] == ["keras3-torch+perturbed"]
    reason = verdict.excluded[0].validity.describe()
    assert reason.startswith("equivalence check: outputs differ by ") and "from the other backends' (tolerance" \
        in reason
    assert verdict.fastest is not None and verdict.gate == "equivalence"
    assert f"note: {CHANCE_EVERYWHERE}" in " ".join(stdout.split())
    assert "excluded: keras3-torch+perturbed: equivalence check: outputs differ by" in stdout
    assert "no backend counts" not in stdout
