"""A real Docker engine for the tests: our own dockerd, and a local base image made with debootstrap.

The engine runs with its own data root, exec root, pid file and socket, `--bridge=none --iptables=false` (no
default bridge: its addresses are off-limits on these machines), and is stopped by its pid. The data root lives in
the test cache (images are then reused by the next session) unless another session holds it, then in a temporary
folder. Docker Hub is out of reach, so the base image is made here: `debootstrap --variant=minbase bookworm` with
python3 + venv and the host's CA certificates (pip inside `docker build --network host` reaches PyPI through a
proxy whose CA is in /usr/local/share/ca-certificates), imported with `docker import`. The rootfs tarball is
cached in the test cache; a cold run makes it (about a minute).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pytest

SUITE = "bookworm"
MIRROR = "http://deb.debian.org/debian"
INCLUDE = ["python3", "python3-venv", "ca-certificates"]
HOST_CA_DIR = Path("/usr/local/share/ca-certificates")
BASE_REPOSITORY = "orchestrate-test/bookworm-python"


@dataclass
class Engine:
    host: str
    proc: subprocess.Popen[bytes]
    pidfile: Path
    exec_root: Path
    data_root: Path
    log_path: Path
    temporary_data_root: bool
    lock: IO[str] | None


def require_tools() -> None:
    missing = [tool for tool in ("dockerd", "debootstrap") if not shutil.which(tool)]
    if missing:
        pytest.fail(f"{', '.join(missing)} not installed: run `bash scripts/system-deps.sh` (as root)")
    if os.geteuid() != 0:
        pytest.fail("the Docker runtime tests start their own dockerd and run debootstrap: run them as root")


def start_engine(cache: Path) -> Engine:
    """Start dockerd; wait until its socket answers (or fail with its log)."""
    require_tools()
    docker_dir = cache / "docker"
    docker_dir.mkdir(parents=True, exist_ok=True)
    lock = open(docker_dir / "data-root.lock", "w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        data_root, temporary = docker_dir / "data-root", False
    except BlockingIOError:  # another test session uses the cached data root: take a fresh one
        lock.close()
        lock = None
        data_root, temporary = Path(tempfile.mkdtemp(prefix="orch-docker-data-")), True
    run = Path(tempfile.mkdtemp(prefix="orch-dockerd-", dir="/tmp"))  # short: unix socket paths are limited
    (run / "daemon.json").write_text("{}\n")
    socket_path = run / "docker.sock"
    engine = Engine(
        host=f"unix://{socket_path}", proc=None, pidfile=run / "docker.pid", exec_root=run / "exec",  # type: ignore[arg-type]
        data_root=data_root, log_path=run / "dockerd.log", temporary_data_root=temporary, lock=lock,
    )
    command = [
        "dockerd", "--config-file", str(run / "daemon.json"),
        "--data-root", str(data_root), "--exec-root", str(engine.exec_root), "--pidfile", str(engine.pidfile),
        "-H", engine.host, "--bridge=none", "--iptables=false", "--ip-masq=false", "--log-level=warn",
    ]
    with open(engine.log_path, "wb") as log:
        # dockerd inherits the data root's lock: a dockerd left behind by a killed session keeps it, and the
        # next session then takes a temporary data root instead of sharing this one.
        engine.proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       start_new_session=True, pass_fds=[lock.fileno()] if lock else [])
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if engine.proc.poll() is not None:
            break
        if socket_path.exists() and _answers(engine.host):
            return engine
        time.sleep(0.5)
    log_tail = engine.log_path.read_text(errors="replace")[-3000:]
    stop_engine(engine)
    pytest.fail(f"dockerd did not come up ({' '.join(command)}):\n{log_tail}")


def _answers(host: str) -> bool:
    import docker

    try:
        client = docker.DockerClient(base_url=host, timeout=5)
        client.ping()
        client.close()
        return True
    except docker.errors.DockerException:
        return False


def stop_engine(engine: Engine) -> None:
    """Stop dockerd by its pid (SIGTERM, then SIGKILL), then the containerd it started, by its pid file."""
    proc = engine.proc
    if proc is not None and proc.poll() is None:
        recorded = _read_pid(engine.pidfile)
        if recorded is not None and recorded != proc.pid:
            raise RuntimeError(f"dockerd pid file {engine.pidfile} says {recorded}, we started {proc.pid}")
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)
    containerd_pid = _read_pid(engine.exec_root / "containerd" / "containerd.pid")
    if containerd_pid is not None and _is_ours(containerd_pid, str(engine.exec_root)):
        os.kill(containerd_pid, signal.SIGTERM)
    if engine.temporary_data_root:
        shutil.rmtree(engine.data_root, ignore_errors=True)
    if engine.lock is not None:
        engine.lock.close()


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _is_ours(pid: int, marker: str) -> bool:
    try:
        return marker in Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return False


def base_key() -> str:
    """The base image's identity: suite, packages and the host's CA certificates."""
    digest = hashlib.sha256(json.dumps({"suite": SUITE, "include": INCLUDE}).encode())
    for cert in sorted(HOST_CA_DIR.glob("*.crt")):
        digest.update(cert.name.encode() + cert.read_bytes())
    return digest.hexdigest()[:12]


def base_image(engine: Engine, cache: Path) -> str:
    """The local base image (python3.11 + venv, the host's CA certificates), imported once per engine."""
    import docker

    tag = f"{BASE_REPOSITORY}:{base_key()}"
    client = docker.DockerClient(base_url=engine.host, timeout=300)
    try:
        try:
            client.images.get(tag)
            return tag
        except docker.errors.ImageNotFound:
            pass
        tarball = rootfs_tarball(cache)
        repository, _, version = tag.partition(":")
        client.api.import_image(src=str(tarball), repository=repository, tag=version,
                                changes=["ENV LANG=C.UTF-8", "CMD [\"/bin/bash\"]"])
        client.images.get(tag)
        return tag
    finally:
        client.close()


def rootfs_tarball(cache: Path) -> Path:
    """debootstrap a minimal bookworm with python3 + venv + the host CA certificates; cached as a tarball."""
    folder = cache / "docker" / "base"
    folder.mkdir(parents=True, exist_ok=True)
    tarball = folder / f"{SUITE}-minbase-{base_key()}.tar"
    if tarball.is_file():
        return tarball
    rootfs = Path(tempfile.mkdtemp(prefix="rootfs-", dir=folder))
    try:
        _run(["debootstrap", "--variant=minbase", f"--include={','.join(INCLUDE)}", SUITE, str(rootfs), MIRROR],
             "debootstrap")
        certs = sorted(HOST_CA_DIR.glob("*.crt"))
        for cert in certs:
            shutil.copy2(cert, rootfs / "usr/local/share/ca-certificates" / cert.name)
        if certs:
            _run(["chroot", str(rootfs), "update-ca-certificates"], "update-ca-certificates in the rootfs")
        for leftovers in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for item in (rootfs / leftovers).glob("*"):
                if item.is_file():
                    item.unlink()
        partial = tarball.with_suffix(".partial")
        _run(["tar", "-C", str(rootfs), "--numeric-owner", "-cf", str(partial), "."], "tar of the rootfs")
        partial.rename(tarball)
    finally:
        _remove_rootfs(rootfs)
    return tarball


def _remove_rootfs(rootfs: Path) -> None:
    """Remove a debootstrap target, unless something is still mounted in it (an interrupted debootstrap)."""
    mounted = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()
               if line.split()[1].startswith(str(rootfs))]
    if mounted:
        raise RuntimeError(f"not removing {rootfs}: still mounted there: {', '.join(mounted)}; unmount them first")
    shutil.rmtree(rootfs, ignore_errors=True)


def _run(command: list[str], what: str) -> None:
    proc = subprocess.run(command, capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.fail(f"{what} failed (exit {proc.returncode}): {' '.join(command)}\n{(proc.stdout + proc.stderr)[-3000:]}")
