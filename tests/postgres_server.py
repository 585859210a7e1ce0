"""A real PostgreSQL server for the tests: initdb + pg_ctl in a temporary folder, on a free loopback port.

The binaries come from PATH or /usr/lib/postgresql/*/bin (scripts/system-deps.sh installs Debian's `postgresql`
when neither has them). initdb refuses to run as root: as root the cluster belongs to the `postgres` user (else `nobody`)
and the server runs as that user (runuser). Trust authentication on 127.0.0.1 only; the server is stopped by its pid.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass
class Server:
    root: Path
    port: int
    pid: int
    user: str

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"


def binary(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None)
    if not found:
        pytest.fail(f"{name} not found on PATH or in /usr/lib/postgresql/*/bin: run `bash scripts/system-deps.sh`")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_user(user: str | None, argv: list[str]) -> list[str]:
    return ["runuser", "-u", user, "--", *argv] if user else argv


def _unprivileged_user() -> str:
    """The `postgres` user where the package made one, else `nobody` (initdb refuses to run as root)."""
    try:
        return pwd.getpwnam("postgres").pw_name
    except KeyError:
        return "nobody"


def start_server() -> Server:
    root = Path(tempfile.mkdtemp(prefix="orchestrate-pg-", dir="/tmp"))
    root.chmod(0o755)
    data = root / "data"
    data.mkdir()
    run_as = _unprivileged_user() if os.geteuid() == 0 else None
    if run_as:
        entry = pwd.getpwnam(run_as)
        os.chown(data, entry.pw_uid, entry.pw_gid)
        os.chown(root, entry.pw_uid, entry.pw_gid)
    user = run_as or pwd.getpwuid(os.geteuid()).pw_name
    port = free_port()
    subprocess.run(_as_user(run_as, [binary("initdb"), "-D", str(data), "-U", user, "-A", "trust", "-E", "UTF8",
                                     "--no-sync"]), check=True, capture_output=True, timeout=120)
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    started = subprocess.run(_as_user(run_as, [binary("pg_ctl"), "-D", str(data), "-o", options, "-l",
                                               str(root / "server.log"), "-w", "-t", "60", "start"]),
                             capture_output=True, text=True, timeout=90)
    if started.returncode != 0:
        log = (root / "server.log").read_text() if (root / "server.log").exists() else ""
        pytest.fail(f"pg_ctl start failed: {started.stdout}{started.stderr}\n{log[-2000:]}")
    pid = int((data / "postmaster.pid").read_text().splitlines()[0])
    return Server(root, port, pid, user)


def stop_server(server: Server) -> None:
    """Fast shutdown by the postmaster's pid (SIGINT), then SIGKILL if it lingers; the folder removed."""
    pause_server(server)
    shutil.rmtree(server.root, ignore_errors=True)


def create_database(server: Server, name: str) -> str:
    import psycopg

    with psycopg.connect(server.url(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return server.url(name)


def pause_server(server: Server) -> None:
    """Stop the server as a crash or an operator would (fast shutdown by the postmaster's pid), keeping its data."""
    try:
        os.kill(server.pid, signal.SIGINT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            os.kill(server.pid, 0)
            time.sleep(0.1)
        os.kill(server.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def resume_server(server: Server) -> None:
    """Start a paused server again on its port and data; `server.pid` becomes the new postmaster's."""
    data = server.root / "data"
    run_as = server.user if os.geteuid() == 0 and server.user != "root" else None
    options = f"-p {server.port} -k {server.root} -c listen_addresses=127.0.0.1 -c fsync=off"
    started = subprocess.run(_as_user(run_as, [binary("pg_ctl"), "-D", str(data), "-o", options, "-l",
                                               str(server.root / "server.log"), "-w", "-t", "60", "start"]),
                             capture_output=True, text=True, timeout=90)
    if started.returncode != 0:
        raise RuntimeError(f"pg_ctl start of {data} failed: {started.stdout}{started.stderr}")
    server.pid = int((data / "postmaster.pid").read_text().splitlines()[0])
