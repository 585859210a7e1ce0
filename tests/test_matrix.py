"""Matrix validation: every error names the file and the field, before anything runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Annotated, Literal, get_args, get_origin

import pytest

from orchestrator.core.errors import ConfigError
from orchestrator.environments.images import make_recipe
from orchestrator.config.load import LoadedMatrix, load_matrix
from orchestrator.config.expand import expand


def write(tmp_path: Path, repo: Path, text: str) -> Path:
    (tmp_path / "requirements").mkdir(exist_ok=True)
    for req in (repo / "requirements").glob("*.txt"):
        (tmp_path / "requirements" / req.name).write_text(req.read_text())
    path = tmp_path / "matrix.yaml"
    path.write_text(text)
    return path


def base(repo: Path) -> str:
    return (repo / "matrix.yaml").read_text()


def test_repository_matrix_is_valid(repo: Path) -> None:
    loaded = load_matrix(repo / "matrix.yaml")
    assert "keras3-jax" in loaded.matrix.environments
    assert {"smoke", "quick", "article"} <= set(loaded.matrix.profiles)


def test_unknown_key_names_field_and_allowed_keys(tmp_path: Path, repo: Path) -> None:
    text = base(repo).replace("    backend: jax\n", "    backend: jax\n    bakend: jax\n", 1)
    with pytest.raises(ConfigError) as err:
        load_matrix(write(tmp_path, repo, text))
    message = str(err.value)
    assert str(tmp_path / "matrix.yaml") in message
    assert "environments.keras3-jax.bakend: unknown key" in message
    assert "backend" in message and "requirements" in message


def test_wrong_type_names_field(tmp_path: Path, repo: Path) -> None:
    text = base(repo).replace("    epochs: 20\n", "    epochs: twenty\n", 1)
    with pytest.raises(ConfigError) as err:
        load_matrix(write(tmp_path, repo, text))
    assert "workloads.mnist_mlp.epochs" in str(err.value)


def test_unknown_backend_lists_allowed_values(tmp_path: Path, repo: Path) -> None:
    text = base(repo).replace("    backend: jax\n", "    backend: caffe\n", 1)
    with pytest.raises(ConfigError) as err:
        load_matrix(write(tmp_path, repo, text))
    message = str(err.value)
    assert "environments.keras3-jax.backend" in message
    assert "'tensorflow'" in message and "'jax'" in message


def test_missing_requirements_file(tmp_path: Path, repo: Path) -> None:
    text = base(repo).replace("requirements/keras3-jax.txt", "requirements/nope.txt", 1)
    with pytest.raises(ConfigError) as err:
        load_matrix(write(tmp_path, repo, text))
    assert "environments.keras3-jax.requirements" in str(err.value) and "nope.txt" in str(err.value)


def test_malformed_yaml_gives_line(tmp_path: Path, repo: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_matrix(write(tmp_path, repo, "environments: [\n  - a: b\n  c"))
    assert "matrix.yaml:" in str(err.value) and "not valid YAML" in str(err.value)


def test_unknown_reference_in_default(tmp_path: Path, repo: Path) -> None:
    text = base(repo).replace("  environments: [tensorflow1,", "  environments: [keras3-nope,", 1)
    with pytest.raises(ConfigError) as err:
        load_matrix(write(tmp_path, repo, text))
    assert "default.environments" in str(err.value) and "keras3-nope" in str(err.value)
    text = base(repo).replace("\nreference: tensorflow1\n", "\nreference: tensorflow9\n", 1)
    with pytest.raises(ConfigError) as err:
        load_matrix(write(tmp_path, repo, text))
    assert "reference: unknown name 'tensorflow9'" in str(err.value)


def test_cli_reports_config_error_without_traceback(tmp_path: Path, repo: Path) -> None:
    text = base(repo).replace("    backend: jax\n", "    backend: caffe\n", 1)
    path = write(tmp_path, repo, text)
    proc = subprocess.run([sys.executable, "-m", "orchestrator.cli", "run", str(path)],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "environments.keras3-jax.backend" in proc.stderr
    assert not (tmp_path / "results").exists()


def test_expand_applies_profile_and_order(repo: Path) -> None:
    loaded = load_matrix(repo / "matrix.yaml")
    cells = expand(loaded, profile="smoke", environments=["keras3-jax"], workloads=["mnist_mlp"])
    assert [c.cell_id for c in cells] == ["keras3-jax__mnist_mlp__smoke__r0"]
    smoke = loaded.matrix.profiles["smoke"]
    assert cells[0].epochs == smoke.epochs and cells[0].train_samples == smoke.train_samples
    article = expand(loaded, profile="article", environments=["keras3-jax"], workloads=["mnist_mlp"])[0]
    assert article.epochs == loaded.matrix.workloads["mnist_mlp"].epochs and article.train_samples is None


def test_unknown_selection_names_choices(repo: Path) -> None:
    loaded = load_matrix(repo / "matrix.yaml")
    with pytest.raises(ConfigError) as err:
        expand(loaded, environments=["caffe2"])
    assert "--env caffe2" in str(err.value) and "keras3-jax" in str(err.value)


# Every numeric field has a range: (replace this, with that) in the repository's matrix -> field and message.
RANGE_REFUSALS = [
    ("seed: 1337\n", "seed: -1\n", "seed: Input should be greater than or equal to 0 (got -1)"),
    ("seed: 1337\n", "seed: 1337\nslots: 0\n", "slots: Input should be greater than or equal to 1 (got 0)"),
    ("seed: 1337\n", "seed: 1337\nslots: 1000\n", "slots: Input should be less than or equal to 256 (got 1000)"),
    ("seed: 1337\n", "seed: 1337\nthreads: 0\n", "threads: Input should be greater than or equal to 1 (got 0)"),
    ("seed: 1337\n", "seed: 1337\nretries: 11\n", "retries: Input should be less than or equal to 10 (got 11)"),
    ("    epochs: 20\n", "    epochs: 0\n", "workloads.mnist_mlp.epochs: Input should be greater than or equal to 1"),
    ("    batch_size: 128\n", "    batch_size: 1000000\n",
     "workloads.mnist_mlp.batch_size: Input should be less than or equal to 65536 (got 1000000)"),
    ("    timeout_s: 900\n", "    timeout_s: 0\n", "profiles.smoke.timeout_s: Input should be greater than 0 (got 0"),
    ("    timeout_s: 900\n", "    timeout_s: 9000000\n",
     "profiles.smoke.timeout_s: Input should be less than or equal to 604800 (got 9000000"),
    ("    timeout_s: 900\n", "    timeout_s: 900\n    repeats: 0\n",
     "profiles.smoke.repeats: Input should be greater than or equal to 1 (got 0)"),
    ("    timeout_s: 900\n", "    timeout_s: 900\n    memory_limit_gb: -1\n",
     "profiles.smoke.memory_limit_gb: Input should be greater than 0 (got -1"),
    ("    train_samples: 512\n", "    train_samples: 0\n",
     "profiles.smoke.train_samples: Input should be greater than or equal to 1 (got 0)"),
    ("{steps_per_epoch: 8}", "{steps_per_epoch: 0}",
     "profiles.smoke.workloads.cifar10_cnn.steps_per_epoch: Input should be greater than or equal to 1 (got 0)"),
    ("      min_compute_capability: 5.2\n", "      min_compute_capability: 9.0\n      max_compute_capability: 7.5\n",
     "environments.keras3-jax.image: min_compute_capability 9 is above max_compute_capability 7.5"),
    ('    keras: "3.15.1"\n', '    keras: "latest"\n',
     "environments.keras3-jax.keras: must be a version starting with its major number, like '3.15.1', got 'latest'"),
    ('    python: "3.11"\n', "    python: 3.10\n",
     "environments.keras3-jax.python: Input should be a valid string (got 3.1); quote it: YAML reads 3.10"),
]


RANGE_IDS = ["seed-negative", "slots-0", "slots-1000", "threads-0", "retries-11", "epochs-0", "batch_size-1e6",
             "timeout_s-0", "timeout_s-9e6", "repeats-0", "memory_limit_gb-negative", "train_samples-0",
             "steps_per_epoch-0", "compute_capability-min-above-max", "keras-not-a-version", "python-unquoted"]


# Names become folders, files, cell ids and image tags: plain names only, and no `__` (the cell-id separator).
NAME_REFUSALS = [
    ("  keras3-jax:\n    backend", '  "../keras3-jax":\n    backend',
     "environments: name '../keras3-jax' is not a plain"),
    ("  mnist_mlp:\n    dataset", "  mnist mlp:\n    dataset", "workloads: name 'mnist mlp' is not a plain name"),
    ("  smoke:\n", "  .smoke:\n", "profiles: name '.smoke' is not a plain name"),
    ("  smoke:\n", f"  {'s' * 65}:\n", f"profiles: name '{'s' * 65}' is 65 characters long; a name has at most 64"),
    ("  mnist_mlp:\n    dataset", "  mnist__mlp:\n    dataset",
     "workloads: name 'mnist__mlp' contains __, the separator of cell ids"),
]


NAME_IDS = ["name-parent-folder", "name-space", "name-leading-dot", "name-too-long", "name-double-underscore"]


@pytest.mark.parametrize(("old", "new", "message"), RANGE_REFUSALS + NAME_REFUSALS, ids=RANGE_IDS + NAME_IDS)
def test_refused_value_names_file_and_field(tmp_path: Path, repo: Path, old: str, new: str, message: str) -> None:
    """A number out of its range, or a name that is not plain: the file, the field, the rule and the value."""
    text = base(repo)
    assert old in text
    with pytest.raises(ConfigError) as err:
        load_matrix(write(tmp_path, repo, text.replace(old, new, 1)))
    assert str(tmp_path / "matrix.yaml") in str(err.value) and message in str(err.value)


def test_an_environment_docker_cannot_name_is_refused_for_images(tmp_path: Path, repo: Path) -> None:
    text = base(repo).replace("  keras3-jax:\n    backend", "  Keras3._jax:\n    backend", 1)
    text = text.replace(", keras3-jax,", ", Keras3._jax,")  # in the default selection and workloads.*.environments
    loaded = load_matrix(write(tmp_path, repo, text))
    assert make_recipe(loaded, "keras3-tensorflow", "cpu").repository == "orchestrate/keras3-tensorflow"
    with pytest.raises(ConfigError) as err:
        make_recipe(loaded, "Keras3._jax", "cpu")
    assert f"{tmp_path / 'matrix.yaml'}: environments.Keras3._jax: Docker cannot name an image" in str(err.value)
    assert "Docker cannot name an image" in environment_table_text(loaded)  # doctor says so in that row


def environment_table_text(loaded: LoadedMatrix) -> str:
    from rich.console import Console

    from orchestrator.workflows.doctor import environment_table
    from orchestrator.measure.gpus import GpuProbe

    console = Console(width=400, record=True)
    console.print(environment_table(loaded, GpuProbe()))  # no GPU
    return console.export_text()


def test_every_numeric_field_of_the_matrix_has_a_range() -> None:
    """A field added later without bounds fails here: give it Field(ge=..., le=...) and a documented range."""
    from annotated_types import Ge, Gt, Le, Lt
    from pydantic import BaseModel

    from orchestrator.config.schema import Matrix

    def numeric(annotation: object) -> bool:
        if get_origin(annotation) is Annotated:  # a number bounded where it is declared (workload options)
            metadata = [m for info in get_args(annotation)[1:] for m in getattr(info, "metadata", [info])]
            if any(isinstance(m, (Ge, Gt)) for m in metadata) and any(isinstance(m, (Le, Lt)) for m in metadata):
                return False
        return annotation in (int, float) or any(numeric(a) for a in get_args(annotation))

    missing, seen, todo = [], set(), [Matrix]
    while todo:
        model = todo.pop()
        seen.add(model)
        for name, field in model.model_fields.items():
            todo += [m for m in _models_in(field.annotation) if m not in seen]
            if get_origin(field.annotation) is Literal or not numeric(field.annotation):
                continue
            low = any(isinstance(m, (Ge, Gt)) for m in field.metadata)
            high = any(isinstance(m, (Le, Lt)) for m in field.metadata)
            if not (low and high):
                missing.append(f"{model.__name__}.{name}")
    assert not missing, f"numeric matrix fields without a range: {missing}"
    assert len(seen) >= 6 and all(issubclass(m, BaseModel) for m in seen)


def _models_in(annotation: object) -> list[type]:
    from pydantic import BaseModel

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for a in get_args(annotation) for m in _models_in(a)]
