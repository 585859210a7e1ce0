"""A store's password is never at rest, and a store that cannot be used stops a run before anything runs.

Against a real PostgreSQL server that this module starts with password authentication (tests/postgres_server.py,
then scram-sha-256 on its TCP port): one real `orchestrate run` with the password in `--store` leaves it in no
file of the results folder and in no row of the store; a refused port or an incompatible schema stops the run with
exit 3 before any build or cell (`--store-later` keeps recording at the end); PGPASSWORD and a password file
(PGPASSFILE, as ~/.pgpass) work with a URL that holds no password. The redaction function on its own, first.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from orchestrator.cli import main
from orchestrator.core.redaction import has_password, redact, redact_argv
from orchestrator.rundir.owner import OwnerRecord
from orchestrator.store.database import Store, target_of
from orchestrator.store.schema import LATEST
from orchestrator.workflows.record import check_store
from orchestrator.workflows.run import RunRequest, resume_command
from postgres_server import Server, free_port, start_server, stop_server

SECRET = "Sekr1t@Zq9w"  # holds an '@', so the URL carries it percent-encoded
SECRET_IN_URL = "Sekr1t%40Zq9w"
MARKS = (b"Sekr1t", b"Zq9w")  # found in either spelling


# ---------------------------------------------------------------------------------------------- the redaction


@pytest.mark.parametrize("text, expected", [
    ("postgresql://bench:pw@db:5432/results", "postgresql://bench:***@db:5432/results"),
    ("postgresql://bench@db:5432/results", "postgresql://bench@db:5432/results"),
    ("postgresql://db:5432/results", "postgresql://db:5432/results"),
    ("postgresql://bench:p%40ss%3Aw@db/results", "postgresql://bench:***@db/results"),
    ("postgres://bench:p@ss@db/results", "postgres://bench:***@db/results"),
    ("postgresql://bench:a:b:c@db/results", "postgresql://bench:***@db/results"),
    ("postgresql://:pw@db/results", "postgresql://:***@db/results"),
    ("postgresql://bench@db/results?password=pw&sslmode=require",
     "postgresql://bench@db/results?password=***&sslmode=require"),
    ("host=db user=bench password=pw dbname=results", "host=db user=bench password=*** dbname=results"),
    ("a postgresql://u:one@h1/a and https://v:two@h2/b, sqlite:///x.sqlite",
     "a postgresql://u:***@h1/a and https://v:***@h2/b, sqlite:///x.sqlite"),
    ("store 'postgresql://u:pw@h/db': unreachable", "store 'postgresql://u:***@h/db': unreachable"),
    ("--store=postgresql://u:pw@h/db", "--store=postgresql://u:***@h/db"),
    ("results/store.sqlite", "results/store.sqlite"),
])
def test_redact_hides_every_password_and_nothing_else(text: str, expected: str) -> None:
    assert redact(text) == expected
    assert redact(expected) == expected  # idempotent: a redacted text stays as it is
    assert has_password(text) == (text != expected)


def test_redact_hides_several_urls_run_together() -> None:
    for text in ("postgresql://u:one@h1/a,postgresql://v:two@h2/b", "postgresql://h/db?x=1,postgresql://v:two@h2/b"):
        out = redact(text)
        assert "one" not in out and "two" not in out, out


def test_a_command_line_is_recorded_and_resumed_without_its_password(monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"postgresql://bench:{SECRET_IN_URL}@db:5432/results"
    assert redact_argv(["orchestrate", "run", "--store", url]) == [
        "orchestrate", "run", "--store", "postgresql://bench:***@db:5432/results"]
    monkeypatch.setattr(sys, "argv", ["/usr/bin/orchestrate", "run", f"--store={url}"])
    assert "Sekr1t" not in json.dumps(OwnerRecord.of_this_process().model_dump())
    command = resume_command(RunRequest(store=url, store_later=True), "r1")
    assert "Sekr1t" not in command and "postgresql://bench:***@db:5432/results" in command
    assert "--store-later" in command


# ---------------------------------------------------------------------------------------------- a server with passwords


def require_password(server: Server, password: str) -> None:
    """Give the server's user `password` and make TCP connections need it (scram-sha-256); the socket stays trust."""
    import psycopg

    with psycopg.connect(host=str(server.root), port=server.port, user=server.user, dbname="postgres",
                         autocommit=True) as conn:
        conn.execute("SET password_encryption = 'scram-sha-256'")
        conn.execute(f"ALTER USER \"{server.user}\" PASSWORD '{password}'")
    hba = server.root / "data" / "pg_hba.conf"
    lines = [line.replace("trust", "scram-sha-256") if line.startswith("host") else line
             for line in hba.read_text().splitlines()]
    hba.write_text("\n".join(lines) + "\n")
    os.kill(server.pid, signal.SIGHUP)  # reload pg_hba.conf
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # until a connection without the password is refused
        try:
            psycopg.connect(server.url(), connect_timeout=5).close()
        except psycopg.OperationalError:
            return
        time.sleep(0.1)
    pytest.fail("the server still lets a connection in without a password")


@pytest.fixture(scope="module")
def pw_server():  # noqa: ANN201
    server = start_server()
    try:
        require_password(server, SECRET)
        yield server
    finally:
        stop_server(server)


def secret_url(server: Server, database: str, password: str | None = SECRET_IN_URL) -> str:
    userinfo = f"{server.user}:{password}" if password is not None else server.user
    return f"postgresql://{userinfo}@127.0.0.1:{server.port}/{database}"


def new_database(server: Server) -> str:
    """A fresh database on the server; its URL with the password."""
    import psycopg

    name = f"t{uuid.uuid4().hex[:12]}"
    with psycopg.connect(secret_url(server, "postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return secret_url(server, name)


def run_args(repo: Path, cache: Path, results: Path, run_id: str, *more: str) -> list[str]:
    return ["run", str(repo / "tests" / "workloads" / "matrix.yaml"), "--workload", "sleepy", "--profile", "test",
            "--cache-dir", str(cache), "--results-dir", str(results), "--run-id", run_id, "--monitor-hz", "0", *more]


def cli(capsys: pytest.CaptureFixture[str], args: list[str]) -> tuple[int, str]:
    code = main(args)
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err
    return code, out.out + out.err


def nothing_ran(results: Path, run_id: str, cache: Path) -> bool:
    """No run folder (so no result, no owner record) and no environment cache: the run stopped before its first
    build or cell."""
    return not (results / run_id).exists() and not cache.exists()


# ---------------------------------------------------------------------------------------------- fail fast


def test_an_unreachable_store_stops_the_run_before_anything_runs(repo: Path, tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    url = f"postgresql://bench:{SECRET_IN_URL}@127.0.0.1:{free_port()}/results"
    cache, results = tmp_path / "cache", tmp_path / "results"
    code, out = cli(capsys, run_args(repo, cache, results, "refused", "--store", url))
    assert code == 3, out
    assert "unreachable" in out and "postgresql://bench:***@127.0.0.1" in out and "Nothing was run" in out
    assert "--store-later" in out and "Sekr1t" not in out
    assert nothing_ran(results, "refused", cache)


def _newer(path: Path) -> None:
    with Store(target_of(str(path), path.parent)) as store, store._transaction("test") as cur:
        cur.execute("INSERT INTO schema_version VALUES (?, ?, ?)", (LATEST + 1, "future", "now"))


def _columns_missing(path: Path) -> None:  # says version 1, but its results table is not version 1's
    Store(target_of(str(path), path.parent)).close()
    with sqlite3.connect(path) as conn:
        conn.execute("ALTER TABLE results DROP COLUMN matrix_hash")


def _foreign_tables(path: Path) -> None:  # another tool's tables under the same names, no schema_version
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE runs (id INTEGER PRIMARY KEY, name TEXT)")


def _version_gap(path: Path) -> None:  # versions that are not 1..N: another branch's numbering
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, description TEXT NOT NULL, "
                     "applied_at TEXT NOT NULL)")
        conn.execute("INSERT INTO schema_version VALUES (0, 'zero', 'now')")


@pytest.mark.parametrize("make, words", [
    (_newer, "newer than this orchestrate knows"),
    (_columns_missing, "matrix_hash"),
    (_foreign_tables, "not an orchestrate store"),
    (_version_gap, "records schema versions [0]"),
])
def test_an_incompatible_sqlite_store_stops_the_run_before_anything_runs(
        make, words: str, repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: ANN001
    store, cache, results = tmp_path / "team.sqlite", tmp_path / "cache", tmp_path / "results"
    make(store)
    code, out = cli(capsys, run_args(repo, cache, results, "old-store", "--store", str(store)))
    assert code == 3 and words in out and str(store) in out and "--store-later" in out, out
    assert nothing_ran(results, "old-store", cache)


def test_a_newer_postgresql_schema_stops_the_run_and_hides_the_password(
        repo: Path, tmp_path: Path, pw_server: Server, capsys: pytest.CaptureFixture[str]) -> None:
    url = new_database(pw_server)
    with Store(target_of(url, tmp_path)) as store, store._transaction("test") as cur:
        cur.execute("INSERT INTO schema_version VALUES (%s, %s, %s)", (LATEST + 1, "future", "now"))
    cache, results = tmp_path / "cache", tmp_path / "results"
    code, out = cli(capsys, run_args(repo, cache, results, "newer", "--store", url))
    assert code == 3 and "newer than this orchestrate knows" in out and "upgrade orchestrate" in out, out
    assert f"postgresql://{pw_server.user}:***@127.0.0.1:{pw_server.port}/" in out and "Sekr1t" not in out
    assert nothing_ran(results, "newer", cache)


def test_an_older_store_is_migrated_not_refused(tmp_path: Path) -> None:
    store = tmp_path / "old.sqlite"
    with sqlite3.connect(store) as conn:  # a store made before any migration ran: just the version table
        conn.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, description TEXT NOT NULL, "
                     "applied_at TEXT NOT NULL)")
    with Store(target_of(str(store), tmp_path)) as opened:
        assert opened.schema_version() == LATEST


# ---------------------------------------------------------------------------------------------- libpq's own passwords


def test_pgpassword_and_a_password_file_work_with_a_url_without_password(
        pw_server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    url = secret_url(pw_server, new_database(pw_server).rsplit("/", 1)[1], password=None)
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "none"))
    code, out = cli(capsys, ["history", "--store", url])  # no password anywhere: refused, and what to do
    assert code == 3 and "PGPASSWORD" in out and "~/.pgpass" in out, out
    monkeypatch.setenv("PGPASSWORD", SECRET)
    assert check_store(url, tmp_path, None) == target_of(url, tmp_path)  # the check before a run's first cell
    monkeypatch.delenv("PGPASSWORD")
    passfile = tmp_path / "pgpass"
    passfile.write_text(f"127.0.0.1:{pw_server.port}:*:{pw_server.user}:{SECRET}\n")
    passfile.chmod(0o600)
    monkeypatch.setenv("PGPASSFILE", str(passfile))  # what libpq reads as ~/.pgpass
    assert check_store(url, tmp_path, None) is not None
    with Store(target_of(url, tmp_path)) as store:
        assert store.schema_version() == LATEST


def test_cells_do_not_inherit_pgpassword(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from orchestrator.environments.layout import cell_process_env, env_paths
    from orchestrator.config.schema import Environment

    env = Environment(backend="jax", keras="3.15.1", python="3.11", requirements="r.txt")
    monkeypatch.setenv("PGPASSWORD", SECRET)
    assert "PGPASSWORD" not in cell_process_env(env_paths(tmp_path, "keras3-jax"), env, threads=1, seed=0)


# ---------------------------------------------------------------------------------------------- real runs


def files_holding_the_secret(root: Path) -> list[str]:
    return [str(p) for p in root.rglob("*") if p.is_file() and any(m in p.read_bytes() for m in MARKS)]


def rows_holding_the_secret(url: str) -> list[str]:
    """Every row of every table of the store, cast to text, that holds the password."""
    import psycopg

    found = []
    with psycopg.connect(url) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'").fetchall()]
        assert {"runs", "results", "schema_version"} <= set(tables)
        for table in tables:
            for (row,) in conn.execute(f'SELECT t::text FROM "{table}" t').fetchall():
                if any(m.decode() in row for m in MARKS):
                    found.append(f"{table}: {row}")
    return found


@pytest.mark.integration
def test_a_real_run_leaves_the_password_nowhere(repo: Path, env_cache: Path, tmp_path: Path,
                                                pw_server: Server) -> None:
    url = new_database(pw_server)
    results = tmp_path / "results"
    proc = subprocess.run([sys.executable, "-m", "orchestrator.cli", *run_args(repo, env_cache, results, "secret",
                                                                               "--store", url)],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=900, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout
    run = results / "secret"
    assert (run / "owner.json").is_file() and (run / "report" / "report.html").is_file()
    assert list(run.glob("cells/*.json")) and (run / "summary.json").is_file()
    assert "store: 1 new result(s) of 1" in proc.stdout, proc.stdout
    assert files_holding_the_secret(tmp_path) == []
    assert rows_holding_the_secret(url) == []
    assert json.loads((run / "owner.json").read_text())["command"][-1].endswith(
        f"{pw_server.user}:***@127.0.0.1:{pw_server.port}/{url.rsplit('/', 1)[1]}")
    assert not any(m.decode() in proc.stdout for m in MARKS)


@pytest.mark.integration
def test_store_later_runs_first_and_keeps_the_json_when_the_store_is_unreachable(
        repo: Path, env_cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"postgresql://bench:{SECRET_IN_URL}@127.0.0.1:{free_port()}/results"
    results = tmp_path / "results"
    code, out = cli(capsys, run_args(repo, env_cache, results, "later", "--store", url, "--store-later",
                                     "--no-report"))
    cells = list((results / "later").glob("cells/*.json"))
    assert code == 3 and len(cells) == 1, out
    assert "unreachable" in out and f"orchestrate import {results / 'later'} --store postgresql://bench:***@" in out
    assert "Sekr1t" not in out
