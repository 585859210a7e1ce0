"""Matrix validation: every error names the file and the field, before anything runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator.errors import ConfigError
from orchestrator.matrix import expand, load_matrix


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
