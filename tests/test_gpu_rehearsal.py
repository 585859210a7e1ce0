"""The GPU check's offline path, rehearsed on a CPU machine.

- The overlay takes the wheel folder's typing_extensions over an interpreter's older one (pydantic-core needs
  >= 4.14): a real stand-in interpreter with typing_extensions 4.12, real wheels, `orchestrator.cli --help`.
- scripts/gpu-rehearsal.sh: the whole rehearsal (stand-in interpreter without keras or pydantic, network cut,
  wheel folder under 64 MiB, dry run, the GPU-mode path with the fake NVML), as CI runs it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

UV = Path(sys.executable).parent / "uv"
ORCHESTRATOR_WHEELS = ["pydantic>=2.5", "pyyaml>=6", "matplotlib>=3.7", "packaging>=22", "typing_extensions>=4.14",
                      "filelock>=3.12"]


def make_stand_in(folder: Path, *packages: str) -> Path:
    """A real virtualenv (with pip) holding `packages`: the GPU machine's interpreter, without keras or pydantic."""
    subprocess.run([str(UV), "venv", "-q", "--seed", "--python", sys.executable, str(folder)], check=True)
    python = folder / "bin" / "python"
    subprocess.run([str(UV), "pip", "install", "-q", "--python", str(python), *packages], check=True)
    return python


@pytest.fixture(scope="module")
def orchestrator_wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Wheels of the orchestrator's requirements that the stand-in lacks (as scripts/gpu-wheels.sh gathers)."""
    folder = tmp_path_factory.mktemp("wheels")
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check",
                    "--only-binary=:all:", "-d", str(folder), *ORCHESTRATOR_WHEELS], check=True, timeout=600)
    for numpy in folder.glob("numpy-*.whl"):  # the interpreter's own numpy is never shadowed
        numpy.unlink()
    return folder


def test_overlay_takes_the_folders_typing_extensions_over_an_older_one(
        repo: Path, orchestrator_wheels: Path, tmp_path: Path) -> None:
    """typing_extensions 4.12 in the interpreter: the overlay brings the folder's >= 4.14 (first on the path),
    leaves the interpreter unchanged, and `python -m orchestrator.cli --help` works (an ImportError before)."""
    python = make_stand_in(tmp_path / "stand-in", "typing_extensions==4.12.2", "numpy", "scipy", "psutil",
                           "rich", "nvidia-ml-py")
    site = tmp_path / "site"
    env = dict(os.environ, PYTHONPATH=f"{repo}{os.pathsep}{site}", PIP_NO_INDEX="1")
    proc = subprocess.run(
        [str(python), "-m", "orchestrator.environments.overlay", "--python", str(python), "--wheels", str(orchestrator_wheels),
         "--target", str(site), "pydantic>=2.5", "pyyaml>=6", "rich>=13", "psutil>=5.9", "nvidia-ml-py>=12",
         "matplotlib>=3.7", "filelock>=3.12"], capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    cli = subprocess.run([str(python), "-m", "orchestrator.cli", "--help"], capture_output=True, text=True,
                         env=env, timeout=300)
    assert cli.returncode == 0 and "usage: orchestrate" in cli.stdout, cli.stdout + cli.stderr
    assert "the wheel folder's version comes first: typing-extensions" in proc.stdout, proc.stdout
    versions = subprocess.run(
        [str(python), "-c", "from importlib.metadata import version; import typing_extensions, pydantic; "
         "print(version('typing_extensions'), typing_extensions.__file__)"],
        capture_output=True, text=True, env=env, check=True).stdout.split()
    major, minor = (int(part) for part in versions[0].split(".")[:2])
    assert (major, minor) >= (4, 14) and versions[1].startswith(str(site)), versions
    # The interpreter itself still holds its 4.12 (nothing installed into it).
    own = subprocess.run([str(python), "-c", "from importlib.metadata import version; "
                          "print(version('typing_extensions'))"], capture_output=True, text=True, check=True)
    assert own.stdout.strip() == "4.12.2"


def test_the_gpu_rehearsal_passes(repo: Path, data_dir: Path, tmp_path: Path) -> None:
    """scripts/gpu-rehearsal.sh end to end: the stand-in interpreter (typing_extensions 4.12, no keras, no pydantic),
    the network cut, the wheels within 64 MiB, the dry run on a machine whose (fake) NVML shows GPUs staying on the
    CPU, and the GPU mode stopping at the early device check with what it found in the returned folder."""
    work = tmp_path / "rehearsal"
    proc = subprocess.run(["bash", str(repo / "scripts" / "gpu-rehearsal.sh"), "--work", str(work)],
                          capture_output=True, text=True, timeout=1200,
                          env=dict(os.environ, ORCHESTRATE_DATA_DIR=str(data_dir)))
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-8000:]
    assert "gpu-rehearsal: OK" in out and "the wheel folder's version comes first: typing_extensions" in out
    table = (work / "dry" / "gpu-results.md").read_text()
    rows = [line for line in table.splitlines() if line.startswith("| keras3-")]
    assert len(rows) == 2 and all("| ok | cpu; framework: cpu" in row for row in rows), table
    assert "NVML sees no GPU assigned to this cell" in table  # the fake NVML showed GPUs; none was used
    assert (work / "dry" / "status.txt").read_text().startswith("OK (cpu")
    devices = (work / "gpu" / "devices.json").read_text()
    assert '"want": "gpu"' in devices and '"cuda_available": false' in devices
    killed = work / "killed"  # SIGKILLed after its device check: what it had written is there
    assert (killed / "devices.json").is_file() and (killed / "status.txt").read_text().startswith("running")
    assert not (work / "stubs-used.txt").read_text()  # no docker, git, uv or chromium
