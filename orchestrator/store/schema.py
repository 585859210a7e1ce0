"""The store's schema, one for SQLite and PostgreSQL: ordered migrations, recorded in `schema_version`.

A migration is applied once, in a transaction with the version row that records it; a store newer than this
code is refused rather than misread. Types are the portable subset both databases accept (TEXT, INTEGER,
DOUBLE PRECISION); keys are text, so no auto-increment differs between them.
"""

from __future__ import annotations

# (version, what it does, statements). Append only: never edit a migration that has shipped.
MIGRATIONS: list[tuple[int, str, list[str]]] = [
    (1, "runs and cell results", [
        """CREATE TABLE runs (
            run_key TEXT PRIMARY KEY,
            run_id TEXT NOT NULL,
            hostname TEXT,
            host_fingerprint TEXT,
            started_at TEXT,
            finished_at TEXT,
            git_commit TEXT,
            matrix_hash TEXT,
            source TEXT,
            recorded_at TEXT NOT NULL
        )""",
        """CREATE TABLE results (
            run_key TEXT NOT NULL REFERENCES runs (run_key),
            cell_id TEXT NOT NULL,
            run_id TEXT NOT NULL,
            run_started_at TEXT,
            environment TEXT NOT NULL,
            backend TEXT,
            workload TEXT NOT NULL,
            profile TEXT NOT NULL,
            repeat INTEGER NOT NULL,
            status TEXT NOT NULL,
            reason TEXT,
            steady_s DOUBLE PRECISION,
            first_epoch_s DOUBLE PRECISION,
            epochs INTEGER,
            samples_per_s DOUBLE PRECISION,
            test_accuracy DOUBLE PRECISION,
            keras_version TEXT,
            framework_version TEXT,
            python_version TEXT,
            numpy_version TEXT,
            packages TEXT,
            env_hash TEXT,
            runtime TEXT,
            device TEXT,
            hostname TEXT,
            host_fingerprint TEXT NOT NULL,
            cpu TEXT,
            gpu TEXT,
            driver TEXT,
            cpu_count INTEGER,
            threads INTEGER,
            load_1m DOUBLE PRECISION,
            data_source TEXT,
            started_at TEXT,
            finished_at TEXT,
            git_commit TEXT,
            matrix_hash TEXT,
            PRIMARY KEY (run_key, cell_id)
        )""",
        "CREATE INDEX results_series ON results (environment, workload, profile, host_fingerprint, run_started_at)",
    ]),
]

LATEST = MIGRATIONS[-1][0]

VERSION_TABLE = """CREATE TABLE IF NOT EXISTS schema_version (
    version INTEGER PRIMARY KEY,
    description TEXT NOT NULL,
    applied_at TEXT NOT NULL
)"""

RESULT_COLUMNS = (
    "run_key", "cell_id", "run_id", "run_started_at", "environment", "backend", "workload", "profile", "repeat",
    "status", "reason", "steady_s", "first_epoch_s", "epochs", "samples_per_s", "test_accuracy", "keras_version",
    "framework_version", "python_version", "numpy_version", "packages", "env_hash", "runtime", "device",
    "hostname", "host_fingerprint", "cpu", "gpu", "driver", "cpu_count", "threads", "load_1m", "data_source",
    "started_at", "finished_at", "git_commit", "matrix_hash",
)
RUN_COLUMNS = ("run_key", "run_id", "hostname", "host_fingerprint", "started_at", "finished_at", "git_commit",
               "matrix_hash", "source", "recorded_at")
