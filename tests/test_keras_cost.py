"""The cost of Keras, without running anything: native environments in the matrix (api: native, no
keras field; errors name the field), and the Keras 3 / native pairing on constructed repeats: a known Keras
overhead is found, a native version that learns less is not called fast, unrelated backends are not paired."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

from orchestrator.analysis.keras_cost import keras_costs
from orchestrator.core.errors import ConfigError
from orchestrator.config.load import load_matrix
from orchestrator.report import keras_cost as report
from orchestrator.results.schema import (
    CellResult, DataInfo, EnvironmentInfo, EpochMetrics, Metrics, Threads, Timings, WorkloadInfo,
)
from orchestrator.analysis.stats import group_results, steady_state
from orchestrator.analysis.verdicts.settings import Settings

BASE = [10.0, 10.1, 9.9, 10.2, 9.8]
ENVS = {"keras3-torch": ("torch", "3.15.1"), "native-torch": ("torch", "native"),
        "keras3-jax": ("jax", "3.15.1"), "native-jax": ("jax", "native")}


def cell(env: str, repeat: int, steady: float, accuracy: float = 0.95) -> CellResult:
    epochs_s = [steady * 3, steady, steady]
    backend, keras = ENVS[env]
    return CellResult(
        run_id="constructed", cell_id=f"{env}__mnist_mlp__keras-cost__r{repeat}", status="ok",
        environment=EnvironmentInfo(name=env, backend=backend, keras_version=keras, python_version="3.11",
                                    runtime="local"),
        workload=WorkloadInfo(name="mnist_mlp", profile="keras-cost", epochs=3, batch_size=128, repeat=repeat),
        data=DataInfo(source="real", dataset="mnist"),
        timings=Timings(epochs_s=epochs_s, first_epoch_s=epochs_s[0], steady_state_s=steady_state(epochs_s)),
        metrics=Metrics(per_epoch=[EpochMetrics(epoch=i + 1, seconds=s, loss=0.3) for i, s in enumerate(epochs_s)],
                        test={"accuracy": accuracy, "loss": 0.3}),
        threads=Threads(requested=2),
    )


def runs(env: str, times: list[float], accuracy: float = 0.95) -> list[CellResult]:
    return [cell(env, i, t, accuracy) for i, t in enumerate(times)]


def test_a_keras_overhead_is_found_and_pairs_stay_within_a_backend() -> None:
    results = (runs("keras3-torch", [t * 1.3 for t in BASE]) + runs("native-torch", BASE)
               + runs("keras3-jax", BASE) + runs("native-jax", list(reversed(BASE))))
    rows = {r.backend: r for r in keras_costs(group_results(results), Settings(alpha=0.1))}
    assert sorted(rows) == ["jax", "torch"]  # keras3-torch is never paired with native-jax
    torch = rows["torch"]
    assert (torch.keras.environment, torch.native.environment) == ("keras3-torch", "native-torch")
    assert torch.test.ratio == pytest.approx(1.3) and torch.verdict == "Keras slower"
    assert torch.test.low is not None and torch.test.low > 1
    assert rows["jax"].verdict.startswith("no clear difference")


def test_a_native_version_that_learns_less_is_not_called_fast() -> None:
    results = runs("keras3-torch", [t * 2 for t in BASE]) + runs("native-torch", BASE, accuracy=0.5)
    (row,) = keras_costs(group_results(results), Settings(alpha=0.1))
    assert not row.comparable
    assert row.verdict.startswith("not comparable") and "native-torch" in row.verdict and "far below" in row.verdict


def test_the_section_renders_in_the_terminal_and_html_only_when_there_is_a_pair() -> None:
    groups = group_results(runs("keras3-torch", [t * 1.3 for t in BASE]) + runs("native-torch", BASE))
    console = Console(record=True, width=250)
    console.print(report.terminal_table(groups, Settings(alpha=0.1)))
    text = console.export_text()
    assert "The cost of Keras" in text and "Keras slower" in text and "1.3 [" in text
    html = report.html_section(groups, Settings(alpha=0.1))
    assert 'id="keras-cost-table"' in html and "Keras slower" in html
    alone = group_results(runs("keras3-torch", BASE))
    assert report.terminal_table(alone) is None and report.html_section(alone) == ""


def test_native_environments_in_the_matrix(repo: Path) -> None:
    envs = load_matrix(repo / "matrix.yaml").matrix.environments
    for name, backend in (("native-torch", "torch"), ("native-jax", "jax"), ("native-tensorflow", "tensorflow")):
        assert envs[name].api == "native" and envs[name].backend == backend and envs[name].keras == ""
    assert envs["native-torch-compile"].env["ORCHESTRATE_TORCH_COMPILE"] == "1"
    assert envs["keras3-torch"].api == "keras"


@pytest.mark.parametrize("fields, message", [
    ({"backend": "torch", "api": "native", "keras": "3.15.1"}, "a native environment runs no Keras"),
    ({"backend": "cntk", "api": "native"}, "api: native has workloads for the backends"),
    ({"backend": "torch"}, "keras: required field is missing"),
])
def test_bad_native_environments_are_refused_naming_the_field(tmp_path: Path, fields: dict, message: str) -> None:
    lines = "\n".join(f"    {k}: {v!r}".replace("'", '"') for k, v in fields.items())
    matrix = tmp_path / "m.yaml"
    matrix.write_text(f"version: 1\nenvironments:\n  e:\n{lines}\n    python: \"3.11\"\n    requirements: r.txt\n"
                       "workloads:\n  mnist_mlp: {dataset: mnist, epochs: 1, batch_size: 8}\nprofiles: {}\n")
    with pytest.raises(ConfigError) as info:
        load_matrix(matrix)
    assert message in str(info.value) and "environments.e" in str(info.value)
