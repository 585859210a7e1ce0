"""Open a store (an SQLite file or a PostgreSQL URL), migrate it, write runs into it and read results back.

Writes are transactions: a run's rows all land or none do. SQLite runs in WAL mode with a busy timeout and takes
the write lock at the start of each write (BEGIN IMMEDIATE), so two runs finishing at once wait for each other
instead of failing; PostgreSQL serialises migrations with an advisory lock and upserts rows. Every failure to
reach, lock or read the store is a StoreError that says which store (its URL's password redacted) and what to do
(the CLI exits 3).

Opening a store migrates it and checks that it is one this code can write: a store is *incompatible* when its
schema version is newer than the migrations here know, when the versions it records are not the first N of them
(a store of another branch or tool), when its tables cannot be created (tables of the same name that are not an
orchestrate store's), or when its tables lack a column this code writes. An older store (versions 1..N of ours)
is compatible: the missing migrations are applied. `orchestrate run` opens the store before its first cell, so an
unreachable or incompatible one stops the run before anything runs.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Literal

from orchestrator.core.errors import StoreError
from orchestrator.core.redaction import redact
from orchestrator.store.schema import LATEST, MIGRATIONS, RESULT_COLUMNS, RUN_COLUMNS, VERSION_TABLE

DEFAULT_FILE = "store.sqlite"
BUSY_TIMEOUT_S = 60.0  # how long a write waits for another writer; ORCHESTRATE_STORE_BUSY_S overrides
CONNECT_TIMEOUT_S = 10
_MIGRATION_LOCK = 20_020  # PostgreSQL advisory lock id held while migrating


@dataclass(frozen=True)
class Target:
    """Where the store is: an SQLite file, or a PostgreSQL server by URL."""

    kind: Literal["sqlite", "postgresql"]
    location: str

    def describe(self) -> str:
        if self.kind == "sqlite":
            return f"SQLite store {self.location}"
        return f"PostgreSQL store {redact(self.location)}"


def target_of(text: str | None, results_dir: Path) -> Target:
    """`--store` / the matrix's `store:`: a postgresql:// URL, an sqlite:/// URL or a path; None: the default
    file `store.sqlite` in the results directory."""
    if not text:
        return Target("sqlite", str((results_dir / DEFAULT_FILE).resolve()))
    if text.startswith(("postgresql://", "postgres://")):
        return Target("postgresql", text)
    path = text.removeprefix("sqlite:///") if text.startswith("sqlite:///") else text
    if "://" in path:
        raise StoreError(f"store {redact(text)!r}: not a postgresql:// URL, an sqlite:/// URL or a file path")
    return Target("sqlite", str(Path(path).expanduser().resolve()))


def _wal(conn: sqlite3.Connection, busy_s: float) -> None:
    """Put the file in WAL mode. Changing the journal mode can fail with "locked" at once, without SQLite's busy
    handler, while another process creates or converts the same new file: retried until the busy timeout."""
    deadline = time.monotonic() + busy_s
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL").fetchone()
            return
        except sqlite3.OperationalError as exc:
            if ("locked" not in str(exc) and "busy" not in str(exc)) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


class Store:
    """One open store. Use as a context manager; every public method is one transaction."""

    def __init__(self, target: Target, busy_timeout_s: float | None = None) -> None:
        self.target = target
        busy = busy_timeout_s if busy_timeout_s is not None else float(
            os.environ.get("ORCHESTRATE_STORE_BUSY_S", BUSY_TIMEOUT_S))
        self._conn = self._connect(busy)
        self._migrate()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        try:
            self._conn.close()
        except Exception:  # noqa: BLE001 (closing a broken connection)
            pass

    # ------------------------------------------------------------------------------------------------ connecting

    def _connect(self, busy_s: float) -> Any:
        if self.target.kind == "postgresql":
            return self._connect_postgresql()
        path = Path(self.target.location)
        if path.is_dir():
            raise StoreError(f"{self.target.describe()} is a folder; give a file path")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(path, timeout=busy_s, isolation_level=None)  # transactions: explicit BEGIN
            _wal(conn, busy_s)
            conn.execute("PRAGMA foreign_keys=ON")
        except (sqlite3.Error, OSError) as exc:
            raise self._error("cannot be opened", exc) from None
        return conn

    def _connect_postgresql(self) -> Any:
        import psycopg

        try:
            return psycopg.connect(self.target.location, connect_timeout=CONNECT_TIMEOUT_S, autocommit=True)
        except psycopg.Error as exc:
            raise StoreError(f"{self.target.describe()} is unreachable ({_first_line(exc)}); check that the server "
                             "runs, the URL (--store or the matrix's `store:`) and the password (in the URL, or in "
                             "PGPASSWORD or ~/.pgpass)") from None

    def _error(self, what: str, exc: BaseException) -> StoreError:
        text = _first_line(exc)
        if "already exists" in text:  # a migration's CREATE TABLE met tables that are not ours
            return self._incompatible(f"it holds tables of the same names that are not an orchestrate store's: {text}")
        hint = "try again when the other writer is done, or raise ORCHESTRATE_STORE_BUSY_S"
        if "not a database" in text or "malformed" in text:
            hint = ("the file is damaged: move it aside (the runs' JSON are the record) and rebuild it with "
                    "`orchestrate import RESULTS_DIR/*`")
        elif "locked" not in text and "busy" not in text:
            hint = "check the path and its permissions"
        return StoreError(f"{self.target.describe()} {what} ({text}); {hint}")

    def _incompatible(self, why: str) -> StoreError:
        return StoreError(f"{self.target.describe()} has a schema this orchestrate cannot write ({why}); give another "
                          "store (--store, or the matrix's `store:`), or move this one aside: the runs' JSON are the "
                          "record, and `orchestrate import RESULTS_DIR/*` fills a new store")

    # ------------------------------------------------------------------------------------------------ transactions

    def _sql(self, statement: str) -> str:
        return statement.replace("?", "%s") if self.target.kind == "postgresql" else statement

    @contextmanager
    def _transaction(self, what: str) -> Iterator[Any]:
        """A write transaction (SQLite: the write lock taken up front); rolled back on any error."""
        errors = self._driver_errors()
        cur = self._conn.cursor()
        try:
            cur.execute("BEGIN IMMEDIATE" if self.target.kind == "sqlite" else "BEGIN")
            yield cur
            cur.execute("COMMIT")
        except errors as exc:
            self._rollback(cur)
            raise self._error(f"could not {what}", exc) from None
        except BaseException:
            self._rollback(cur)
            raise

    def _rollback(self, cur: Any) -> None:
        try:
            cur.execute("ROLLBACK")
        except Exception:  # noqa: BLE001 (no transaction open, or the connection is gone)
            pass

    def _driver_errors(self) -> tuple[type[BaseException], ...]:
        if self.target.kind == "postgresql":
            import psycopg
            return (psycopg.Error,)
        return (sqlite3.Error,)

    def _migrate(self) -> None:
        with self._transaction("be migrated") as cur:
            if self.target.kind == "postgresql":
                cur.execute(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")
            cur.execute(VERSION_TABLE)
            cur.execute("SELECT MAX(version) FROM schema_version")
            current = cur.fetchone()[0] or 0
            if current > LATEST:
                raise StoreError(f"{self.target.describe()} has schema version {current}, newer than this "
                                 f"orchestrate knows ({LATEST}): upgrade orchestrate")
            cur.execute("SELECT version FROM schema_version ORDER BY version")
            recorded = [row[0] for row in cur.fetchall()]
            if recorded != list(range(1, current + 1)):
                raise self._incompatible(f"it records schema versions {recorded}, not the migrations 1..{current} "
                                         "of this orchestrate")
            for version, description, statements in MIGRATIONS:
                if version <= current:
                    continue
                for statement in statements:
                    cur.execute(statement)
                cur.execute(self._sql("INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)"),
                            (version, description, _now()))
        self._check_columns()

    def _check_columns(self) -> None:
        """Refuse tables that lack a column this code writes (a hand-made store, or tables of another tool)."""
        cur = self._conn.cursor()
        for table, columns in (("runs", RUN_COLUMNS), ("results", RESULT_COLUMNS)):
            try:
                cur.execute(f"SELECT {', '.join(columns)} FROM {table} WHERE 1 = 0")
                cur.fetchall()
            except self._driver_errors() as exc:
                raise self._incompatible(f"its table {table}: {_first_line(exc)}") from None

    def schema_version(self) -> int:
        cur = self._conn.cursor()
        cur.execute("SELECT MAX(version) FROM schema_version")
        return int(cur.fetchone()[0])

    # ------------------------------------------------------------------------------------------------ writing

    def add_run(self, run: dict[str, Any], results: list[dict[str, Any]]) -> int:
        """Insert or update the run and its results in one transaction; returns how many results were new."""
        result_sql = self._upsert("results", RESULT_COLUMNS, ("run_key", "cell_id"))
        with self._transaction(f"record run {run['run_id']}") as cur:
            cur.execute(self._upsert("runs", RUN_COLUMNS, ("run_key",), keep=("recorded_at",)),
                        [run[c] for c in RUN_COLUMNS])
            cur.execute(self._sql("SELECT cell_id FROM results WHERE run_key = ?"), (run["run_key"],))
            known = {row[0] for row in cur.fetchall()}
            for row in results:
                cur.execute(result_sql, [row[c] for c in RESULT_COLUMNS])
        return len({r["cell_id"] for r in results} - known)

    def _upsert(self, table: str, columns: tuple[str, ...], key: tuple[str, ...], keep: tuple[str, ...] = ()) -> str:
        """INSERT ... ON CONFLICT (key) DO UPDATE: a resumed run's rerun cells replace their earlier rows."""
        updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in key and c not in keep)
        marks = ", ".join("?" for _ in columns)
        return self._sql(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks}) "
                         f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}")

    # ------------------------------------------------------------------------------------------------ reading

    def results(self, **equal: str | None) -> list[dict[str, Any]]:
        """Result rows whose columns equal the given values (None: no filter), oldest run first."""
        unknown = set(equal) - set(RESULT_COLUMNS)
        if unknown:
            raise ValueError(f"not result columns: {sorted(unknown)}")
        filters = {k: v for k, v in equal.items() if v is not None}
        where = " AND ".join(f"{k} = ?" for k in filters) or "1 = 1"
        return self._select(f"SELECT {', '.join(RESULT_COLUMNS)} FROM results WHERE {where} "
                            "ORDER BY run_started_at, run_key, environment, workload, profile, repeat",
                            list(filters.values()))

    def runs(self) -> list[dict[str, Any]]:
        return self._select(f"SELECT {', '.join(RUN_COLUMNS)} FROM runs ORDER BY started_at, run_key", [])

    def _select(self, statement: str, params: list[Any]) -> list[dict[str, Any]]:
        try:
            cur = self._conn.cursor()
            cur.execute(self._sql(statement), params)
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row)) for row in cur.fetchall()]
        except self._driver_errors() as exc:
            raise self._error("could not be read", exc) from None


def _first_line(exc: BaseException) -> str:
    """The driver's message, first line, with any password redacted (libpq may quote the connection string)."""
    text = str(exc).strip() or type(exc).__name__
    return redact(text.splitlines()[0])
