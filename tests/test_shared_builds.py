"""Environment builds are safe to share: four `orchestrate build keras3-jax` processes on one fresh
cache (a real uv build), the one building SIGKILLed mid-install. The environment is built exactly once to
the end, by one of the three others after it removed the partial build; the other two wait, saying for whom,
and reuse it; it ends ready and importable."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def _wait_for(check, timeout_s: float, what: str) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s:g} s waiting for {what}")
        time.sleep(0.05)


def test_four_builders_one_killed_mid_build_build_once(repo: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    env_root = cache / "envs" / "keras3-jax"
    args = [sys.executable, "-m", "orchestrator.cli", "build", "keras3-jax", "--matrix", str(repo / "matrix.yaml"),
            "--runtime", "local", "--cache-dir", str(cache)]
    outs = [tmp_path / f"builder{i}.out" for i in range(4)]
    procs = []
    for out in outs:
        with open(out, "w") as fh:
            procs.append(subprocess.Popen(args, stdout=fh, stderr=subprocess.STDOUT, cwd=tmp_path,
                                          env=dict(os.environ, PYTHONUNBUFFERED="1")))  # lines as they are said
    try:
        holder = cache / "envs" / ".keras3-jax.holder.json"
        log = env_root / "build.log"
        # The builder is installing the requirements (uv pip install -r ...) when it is killed.
        _wait_for(lambda: log.exists() and "pip install" in log.read_text(), 300, "a builder to start installing")
        builder = json.loads(holder.read_text())["pid"]
        by_pid = {p.pid: p for p in procs}
        assert builder in by_pid
        # Killed once the others have said whom they wait for (after the lock's 2 s of quiet): still well inside
        # the install, packages half unpacked into the venv.
        waiters = [out for p, out in zip(procs, outs) if p.pid != builder]
        _wait_for(lambda: all("waiting for another build" in out.read_text() for out in waiters), 60,
                  "the other builders to say whom they wait for")
        os.kill(builder, signal.SIGKILL)
        killed = by_pid[builder]
        assert killed.wait(30) == -signal.SIGKILL
        assert not (env_root / "ready.json").exists()  # a killed builder never leaves it marked ready
        codes = [p.wait(900) for p in procs if p is not killed]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    texts = {p.pid: " ".join(out.read_text().split()) for p, out in zip(procs, outs)}
    survivors = [texts[p.pid] for p in procs if p is not killed]
    assert codes == [0, 0, 0], survivors
    assert "keras3-jax: building" in texts[killed.pid] and "built in" not in texts[killed.pid]
    assert sum(text.count("keras3-jax: built in") for text in texts.values()) == 1  # built once, to the end
    rebuilder = next(text for text in survivors if "built in" in text)
    assert f"an earlier build (pid {builder} on host" in rebuilder and "did not finish" in rebuilder
    assert sum("keras3-jax: reused" in text for text in survivors) == 2
    # Those who came while it was built waited, saying for whom (the killed builder, or the one after it).
    assert all("waiting for another build of keras3-jax (pid " in text for text in survivors if "reused" in text)
    assert any(f"waiting for another build of keras3-jax (pid {builder} on host" in text for text in survivors)
    marker = json.loads((env_root / "ready.json").read_text())
    assert marker["packages"]["jax"] and marker["packages"]["keras"]
    assert not (env_root / "building.json").exists() and not holder.exists()
    check = subprocess.run([str(env_root / "venv" / "bin" / "python"), "-c",
                            "import keras, jax; print(keras.__version__, jax.__version__)"],
                           capture_output=True, text=True, timeout=300,  # its private keras.json: jax
                           env={**os.environ, "KERAS_HOME": str(env_root / "keras_home"), "HOME": str(tmp_path)})
    assert check.returncode == 0, check.stderr
    assert check.stdout.split() == [marker["packages"]["keras"], marker["packages"]["jax"]]
