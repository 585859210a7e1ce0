"""Matrix fields: existing environments (`build: none`, `wheels`) and the machine's `price`."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from orchestrator.cli import main
from orchestrator.workflows.setup import with_run_options
from orchestrator.core.errors import ConfigError
from orchestrator.config.load import load_matrix
from orchestrator.config.schema import only_environments


def write(tmp_path: Path, repo: Path, environments: dict, **top: object) -> Path:
    raw = yaml.safe_load((repo / "matrix.yaml").read_text())
    raw = only_environments(raw, environments)  # the modern models' workloads name environments not among these
    raw.update(top)
    path = tmp_path / "matrix.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def test_existing_environment_fields(tmp_path: Path, repo: Path) -> None:
    (tmp_path / "wheels").mkdir()
    loaded = load_matrix(write(tmp_path, repo, {"here": {"backend": "jax", "keras": "3.15.1", "build": "none",
                                                         "python": "/opt/conda/bin/python", "wheels": "wheels"}},
                               price={"per_hour": 3.673, "machine": "Standard_NC24ads_A100_v4"}))
    env = loaded.matrix.environments["here"]
    assert env.build == "none" and env.requirements == "" and loaded.wheels_dir("here") == tmp_path / "wheels"
    assert loaded.matrix.price.per_hour == 3.673 and loaded.matrix.price.currency == "USD"
    with pytest.raises(ConfigError, match="existing interpreter .* local runtime only"):
        loaded.requirements_path("here")  # what the Docker runtime would ask for
    # --wheels and --price-per-hour override the matrix.
    other = tmp_path / "other"
    other.mkdir()
    changed = with_run_options(loaded, str(other), 1.5)
    assert changed.wheels_dir("here") == other and changed.matrix.price.per_hour == 1.5
    assert changed.matrix.price.machine == "Standard_NC24ads_A100_v4"
    assert changed.matrix.price.source == "--price-per-hour"


@pytest.mark.parametrize("entry, problem", [
    ({"python": "/usr/bin/python3", "requirements": "requirements/keras3-jax.txt"}, "is a path: give MAJOR.MINOR"),
    ({"python": "3.11"}, "requirements: required field is missing (or set build: none"),
    ({"python": "3.11", "requirements": "requirements/keras3-jax.txt", "wheels": "w"}, "wheels: only for build: none"),
    ({"python": "3.11", "build": "conda"}, "environments.bad.build"),
])
def test_bad_existing_environment_fields_name_the_field(tmp_path: Path, repo: Path, entry: dict, problem: str) -> None:
    (tmp_path / "requirements").mkdir()
    (tmp_path / "requirements" / "keras3-jax.txt").write_text("keras==3.15.1\n")
    with pytest.raises(ConfigError) as err:
        load_matrix(write(tmp_path, repo, {"bad": {"backend": "jax", "keras": "3.15.1", **entry}}))
    assert str(tmp_path / "matrix.yaml") in str(err.value) and problem in str(err.value)


def test_missing_wheel_folder_and_bad_price_are_refused(tmp_path: Path, repo: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, repo, {"here": {"backend": "jax", "keras": "3.15.1", "build": "none",
                                           "python": "/x/bin/python", "wheels": "nowhere"}})
    with pytest.raises(ConfigError, match="environments.here.wheels: folder 'nowhere' not found"):
        load_matrix(path)
    with pytest.raises(ConfigError, match="price.per_hour"):
        load_matrix(write(tmp_path, repo, {"here": {"backend": "jax", "keras": "3.15.1", "build": "none",
                                                    "python": "/x/bin/python"}}, price={"per_hour": 0}))
    assert main(["run", str(repo / "matrix.yaml"), "--price-per-hour", "-2"]) == 2
    assert "--price-per-hour -2" in capsys.readouterr().err


def test_doctor_and_the_ray_bundle_take_a_matrix_with_an_existing_environment(tmp_path: Path, repo: Path) -> None:
    from rich.console import Console

    from orchestrator.workflows.doctor import environment_table
    from orchestrator.measure.gpus import GpuProbe
    from orchestrator.runtimes.ray import make_bundle, unpack_bundle

    (tmp_path / "requirements").mkdir()
    (tmp_path / "requirements" / "keras3-jax.txt").write_text("keras==3.15.1\n")
    loaded = load_matrix(write(tmp_path, repo, {
        "here": {"backend": "torch", "keras": "3.15.1", "build": "none", "python": "/opt/conda/bin/python"},
        "keras3-jax": {"backend": "jax", "keras": "3.15.1", "python": "3.11",
                       "requirements": "requirements/keras3-jax.txt"},
    }))
    console = Console(width=200, record=True)
    console.print(environment_table(loaded, GpuProbe(error="no GPU")))
    assert "existing interpreter /opt/conda/bin/python" in console.export_text()
    bundle = make_bundle(loaded)
    environment_files = [f for f in bundle["files"] if not f.startswith("models/")]  # models/: workloads' files
    assert environment_files == ["requirements/keras3-jax.txt"]  # none for the existing interpreter
    on_node = unpack_bundle(bundle, tmp_path / "node")  # a Ray node validates the matrix it is sent
    assert on_node.matrix.environments["here"].python == "/opt/conda/bin/python"
    from orchestrator.environments.images import make_recipe

    with pytest.raises(ConfigError, match=r"environments\.here\.build: none .* --runtime local"):
        make_recipe(loaded, "here", "cpu")  # --runtime docker refuses it, naming the field
