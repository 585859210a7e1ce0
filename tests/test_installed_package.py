"""The orchestrator as a user installs it: a wheel in a fresh virtualenv, run from an empty folder.

The wheel bundles what a run needs (`orchestrator/_project/`: the default matrix, requirements/*.txt, workloads/,
docker/, examples/); `orchestrate run --model FILE` from any folder runs on the bundled matrix and writes ./results;
`orchestrate init DIR` writes a matrix the installed package reads and an example model, never overwriting a file.
Environments go to the per-user cache for installed use, to .orchestrate beside the matrix for a clone.

The integration tests build the wheel (`python -m build`, `twine check`), install it with pip into a virtualenv
outside the checkout and run the real Keras 3 cells with ORCHESTRATE_CACHE_DIR at the tests' environment cache (the
three environments are reused: their hash does not depend on where the requirements files live). HOME and
XDG_CACHE_HOME point into tmp, so nothing is written to the real home.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from rich.console import Console

from orchestrator.config.load import load_matrix
from orchestrator.core import workload_files
from orchestrator.core.errors import ConfigError
from orchestrator.environments.layout import chosen_cache_dir, default_cache_dir, env_paths
from orchestrator.workflows.init import init_project

REPO = Path(__file__).resolve().parent.parent
KERAS3 = ("keras3-tensorflow", "keras3-jax", "keras3-torch")


# --- in the checkout ----------------------------------------------------------------------------------------------


def test_a_clone_reads_its_own_matrix_and_keeps_its_cache_beside_it(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ORCHESTRATE_CACHE_DIR", raising=False)
    assert workload_files.installed_project_dir() is None  # running from the checkout
    assert workload_files.default_matrix() == REPO / "matrix.yaml"
    assert workload_files.harness_path() == REPO / "workloads" / "harness.py"
    monkeypatch.chdir(tmp_path)  # no matrix.yaml here: the project's own
    assert workload_files.matrix_file("matrix.yaml") == REPO / "matrix.yaml"
    assert workload_files.matrix_file("other.yaml") == Path("other.yaml")  # a named file stays as named
    (tmp_path / "matrix.yaml").write_text("{}")
    assert workload_files.matrix_file("matrix.yaml") == Path("matrix.yaml")  # ./matrix.yaml wins, as in a clone
    assert default_cache_dir(load_matrix(REPO / "matrix.yaml")) == REPO / ".orchestrate"


def test_the_installed_matrix_builds_in_the_per_user_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pretend the checkout is the installed bundle: its matrix, and one that names its requirements files, build
    in the per-user cache; --cache-dir and ORCHESTRATE_CACHE_DIR still win."""
    monkeypatch.setattr(workload_files, "installed_project_dir", lambda: REPO)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("ORCHESTRATE_CACHE_DIR", raising=False)
    bundled = load_matrix(REPO / "matrix.yaml")
    assert chosen_cache_dir(None, bundled) == tmp_path / "xdg" / "orchestrate"
    monkeypatch.chdir(tmp_path)
    init_project("project", Console(quiet=True))
    assert chosen_cache_dir(None, load_matrix(tmp_path / "project" / "matrix.yaml")) == tmp_path / "xdg" / "orchestrate"
    assert chosen_cache_dir(tmp_path / "mine", bundled) == tmp_path / "mine"
    monkeypatch.setenv("ORCHESTRATE_CACHE_DIR", str(tmp_path / "env"))
    assert chosen_cache_dir(None, bundled) == tmp_path / "env"


def test_init_writes_a_matrix_that_reads_from_its_folder_and_an_example_model(tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    target = tmp_path / "new" / "project"
    assert init_project(str(target), Console(quiet=True)) == 0
    loaded = load_matrix(target / "matrix.yaml")
    source = load_matrix(REPO / "matrix.yaml")
    assert list(loaded.matrix.environments) == list(source.matrix.environments)
    for name in KERAS3:
        assert loaded.requirements_path(name) == REPO / "requirements" / f"{name}.txt"
    assert loaded.script_path("bert_classifier") == REPO / "workloads" / "modern" / "bert_classifier.py"
    assert "# The benchmark matrix" in (target / "matrix.yaml").read_text()  # the comments are kept
    assert (target / "my_model.py").read_text() == (REPO / "examples" / "my_model.py").read_text()


@pytest.mark.parametrize("existing", ["matrix.yaml", "my_model.py"])
def test_init_never_overwrites_a_file(tmp_path: Path, existing: str) -> None:
    (tmp_path / existing).write_text("mine\n")
    with pytest.raises(ConfigError, match=f"{tmp_path / existing}: already exists; orchestrate init never "
                                          "overwrites a file"):
        init_project(str(tmp_path), Console(quiet=True))
    assert (tmp_path / existing).read_text() == "mine\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [existing]  # nothing else written either


def test_init_is_exit_2_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "matrix.yaml").write_text("mine\n")
    proc = subprocess.run([sys.executable, "-m", "orchestrator.cli", "init", str(tmp_path)], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2 and f"{tmp_path / 'matrix.yaml'}: already exists" in proc.stderr
    assert "Traceback" not in proc.stderr


# --- installed from the wheel --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Installed:
    venv: Path
    wheel: Path
    home: Path
    timings: dict[str, float]

    def orchestrate(self, *args: str, cwd: Path, cache: Path | None = None,
                    timeout: int = 1800) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ORCHESTRATE_", "VIRTUAL_ENV", "PYTHON"))}
        env.update(HOME=str(self.home), XDG_CACHE_HOME=str(self.home / ".cache"),
                   XDG_CONFIG_HOME=str(self.home / ".config"), MPLCONFIGDIR=str(self.home / "mpl"),
                   PYENV_ROOT=os.environ.get("PYENV_ROOT", str(Path.home() / ".pyenv")))  # the interpreters found
        if cache is not None:
            env["ORCHESTRATE_CACHE_DIR"] = str(cache)
        return subprocess.run([str(self.venv / "bin" / "orchestrate"), *args], cwd=cwd, env=env, capture_output=True,
                              text=True, timeout=timeout)


def _timed(timings: dict[str, float], name: str, command: list[str], **kw: object) -> None:
    start = time.monotonic()
    proc = subprocess.run(command, capture_output=True, text=True, **kw)  # type: ignore[call-overload]
    timings[name] = time.monotonic() - start
    assert proc.returncode == 0, f"{' '.join(command)}\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    print(f"{name}: {timings[name]:.1f} s", flush=True)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """The sdist and wheel built and checked, the wheel pip-installed into a fresh virtualenv outside the checkout."""
    root = tmp_path_factory.mktemp("installed")
    dist, venv = root / "dist", root / "venv"
    timings: dict[str, float] = {}
    _timed(timings, "build (sdist, wheel from it)", [sys.executable, "-m", "build", "--outdir", str(dist), str(REPO)],
           timeout=900)
    _timed(timings, "twine check", [sys.executable, "-m", "twine", "check", "--strict", *map(str, dist.iterdir())],
           timeout=300)
    (wheel,) = dist.glob("*.whl")
    _timed(timings, "python -m venv", [sys.executable, "-m", "venv", str(venv)], timeout=300, cwd=root)
    _timed(timings, "pip install <wheel>", [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
                                            str(wheel)], timeout=1800, cwd=root)
    home = root / "home"
    home.mkdir()
    return Installed(venv, wheel, home, timings)


@pytest.mark.integration
def test_the_wheel_bundles_what_a_run_needs(installed: Installed) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    bundle = "orchestrator/_project"
    expected = {f"{bundle}/matrix.yaml", f"{bundle}/workloads/harness.py", f"{bundle}/workloads/protocol.py",
                f"{bundle}/docker/Dockerfile", f"{bundle}/examples/my_model.py"}
    expected |= {f"{bundle}/requirements/{p.name}" for p in (REPO / "requirements").glob("*.txt")}
    expected |= {f"{bundle}/workloads/{p.relative_to(REPO / 'workloads')}" for p in
                 (REPO / "workloads" / "modern").glob("*.py")}
    assert expected <= names, sorted(expected - names)
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]


@pytest.mark.integration
def test_installed_run_model_from_an_empty_folder(installed: Installed, env_cache: Path, data_dir: Path,
                                                  tmp_path: Path) -> None:
    """`orchestrate run --model FILE` from an empty folder: the bundled matrix, the three Keras 3 backends, the
    verdict printed and ./results written; the environments of the tests' cache reused."""
    empty = tmp_path / "empty"
    empty.mkdir()
    # The checkout builds (or reuses) the three environments first, whatever ran before in this session (another
    # test may have left a variant of one in the cache): the installed run must then reuse every one of them.
    built = subprocess.run([sys.executable, "-m", "orchestrator.cli", "build", *KERAS3, "--runtime", "local",
                            "--matrix", str(REPO / "matrix.yaml"), "--cache-dir", str(env_cache)],
                           capture_output=True, text=True, timeout=1800)
    assert built.returncode == 0, built.stdout + built.stderr
    ready = {name for name in KERAS3 if env_paths(env_cache, name).marker.is_file()}
    assert ready == set(KERAS3)
    start = time.monotonic()
    proc = installed.orchestrate("run", "--model", str(REPO / "examples" / "my_model.py"), "--profile", "smoke",
                                 "--data-dir", str(data_dir), "--run-id", "installed", cwd=empty, cache=env_cache)
    run_s = time.monotonic() - start
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-6000:]
    assert "Traceback" not in out
    assert "verdict" in proc.stdout.lower()
    for name in ready:  # built before by the checkout's tests: same content hash from the wheel's requirements
        assert f"{name}: up to date" in proc.stdout and "reused" in proc.stdout, out[-6000:]
    assert sorted(p.name for p in empty.iterdir()) == ["results"]  # no .orchestrate/, nothing else
    run = empty / "results" / "installed"
    summary = json.loads((run / "summary.json").read_text())
    assert summary
    cells = [json.loads(p.read_text()) for p in sorted((run / "cells").glob("*.json"))]
    assert sorted(c["environment"]["name"] for c in cells) == sorted(KERAS3)
    assert all(c["status"] == "ok" and c["workload"]["name"] == "my_model" for c in cells)
    assert (run / "report" / "report.html").is_file()
    timings = installed.timings
    install_to_verdict = timings["python -m venv"] + timings["pip install <wheel>"] + run_s
    print(f"orchestrate run --model (3 cells, smoke): {run_s:.1f} s; from pip install to the verdict: "
          f"{install_to_verdict:.1f} s (build and twine check before it: "
          f"{timings['build (sdist, wheel from it)'] + timings['twine check']:.1f} s)", flush=True)


@pytest.mark.integration
def test_installed_init_writes_a_matrix_the_package_reads(installed: Installed, tmp_path: Path) -> None:
    """`orchestrate init DIR` from the installed package: a matrix naming the bundled requirements, read back by
    `orchestrate list` in DIR, whose environments go to the per-user cache; a second init is refused (exit 2)."""
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = installed.orchestrate("init", "project", cwd=empty)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    project = empty / "project"
    assert sorted(p.name for p in project.iterdir()) == ["matrix.yaml", "my_model.py"]
    bundle = installed.venv / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages" \
        / "orchestrator" / "_project"
    assert f'requirements: "{bundle / "requirements" / "keras3-jax.txt"}"' in (project / "matrix.yaml").read_text()
    assert f"environments are built once into {installed.home / '.cache' / 'orchestrate'}" in proc.stdout

    listed = installed.orchestrate("list", cwd=project)  # ./matrix.yaml: the one init wrote
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert all(name in listed.stdout for name in KERAS3)
    script = ("from orchestrator.config.load import load_matrix\n"
              "from orchestrator.environments.layout import chosen_cache_dir\n"
              "loaded = load_matrix('matrix.yaml')\n"
              "print(loaded.requirements_path('keras3-torch'))\n"
              "print(chosen_cache_dir(None, loaded))\n")
    env = {**os.environ, "HOME": str(installed.home), "XDG_CACHE_HOME": str(installed.home / ".cache")}
    env.pop("ORCHESTRATE_CACHE_DIR", None)
    read = subprocess.run([str(installed.venv / "bin" / "python"), "-c", script], cwd=project, env=env,
                          capture_output=True, text=True, timeout=120)
    assert read.returncode == 0, read.stderr
    assert read.stdout.split() == [str(bundle / "requirements" / "keras3-torch.txt"),
                                   str(installed.home / ".cache" / "orchestrate")]

    bundled = installed.orchestrate("list", cwd=empty)  # no matrix.yaml here: the bundled one
    assert bundled.returncode == 0 and "keras3-jax" in bundled.stdout, bundled.stderr

    again = installed.orchestrate("init", "project", cwd=empty)
    assert again.returncode == 2 and f"{project / 'matrix.yaml'}: already exists" in again.stderr
