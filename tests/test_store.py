"""The store (orchestrator/store) on a real SQLite file and a real PostgreSQL server this module starts
(tests/postgres_server.py): schema and migrations, import and export, history and its change detection, the CI
gate, two writers at once, and the faults (unreachable server, locked or corrupt file). One real `orchestrate run`
of the test workloads (keras3-jax) records into PostgreSQL, another survives a corrupt store with its JSON written.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import pytest

from orchestrator.cli import main
from orchestrator.core.errors import StoreError
from orchestrator.results.schema import CellResult, EnvironmentInfo, HostInfo, Threads, Timings, WorkloadInfo
from orchestrator.rundir.layout import RunDir
from orchestrator.results.io import read_cell
from orchestrator.store.database import Store, target_of
from orchestrator.store.schema import LATEST, MIGRATIONS
from postgres_server import create_database, free_port, start_server, stop_server

HOST_A = HostInfo(hostname="bench-a", cpu="Test CPU A", cpu_count=2)
HOST_B = HostInfo(hostname="bench-b", cpu="Test CPU B", cpu_count=8)


@pytest.fixture(scope="module")
def pg_server():  # noqa: ANN201
    server = start_server()
    yield server
    stop_server(server)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "store.sqlite")
    return create_database(request.getfixturevalue("pg_server"), f"t{uuid.uuid4().hex[:12]}")


def write_run(results: Path, run_id: str, steady: list[float], torch: str = "2.12.0", host: HostInfo = HOST_A,
              started: str = "2026-01-01T00:00:00+00:00") -> Path:
    """A run folder of keras3-torch x mnist_cnn repeats with the given steady-state s/epoch."""
    run_dir = RunDir(results, run_id)
    run_dir.cells_dir.mkdir(parents=True, exist_ok=True)
    for repeat, seconds in enumerate(steady):
        cell = f"keras3-torch__mnist_cnn__compare__r{repeat}"
        run_dir.write_cell(CellResult(
            run_id=run_id, cell_id=cell, status="ok", started_at=started, threads=Threads(requested=2), host=host,
            environment=EnvironmentInfo(name="keras3-torch", backend="torch", keras_version="3.15.1",
                                        python_version="3.11.7", runtime="local", framework_version=torch,
                                        packages={"torch": torch, "keras": "3.15.1"}),
            workload=WorkloadInfo(name="mnist_cnn", profile="compare", epochs=3, batch_size=128, repeat=repeat),
            timings=Timings(epochs_s=[2 * seconds, seconds, seconds], steady_state_s=seconds)))
    return run_dir.path


def history_runs(results: Path, host: HostInfo = HOST_A, step_at: int | None = 6, runs: int = 10,
                 seed: int = 0, upgrade_at: int | None = None) -> list[Path]:
    """Runs r00.. of one series, 1% noise; from `step_at` on 15% slower, from `upgrade_at` (default: step_at)
    on torch 2.13.0."""
    rng = np.random.default_rng(seed)
    upgrade_at = step_at if upgrade_at is None else upgrade_at
    paths = []
    for i in range(runs):
        level = 1.15 if step_at is not None and i >= step_at else 1.0
        samples = [float(level * (1 + rng.normal(0, 0.01))) for _ in range(3)]
        upgraded = upgrade_at is not None and i >= upgrade_at
        paths.append(write_run(results, f"{host.hostname}-r{i:02d}", samples, "2.13.0" if upgraded else "2.12.0",
                               host, f"2026-01-{i + 1:02d}T00:00:00+00:00"))
    return paths


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(list(args))
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err
    return code, out.out + out.err


def count(url: str) -> int:
    with Store(target_of(url, Path("."))) as store:
        return len(store.results())


# ---------------------------------------------------------------------------------------------- schema and rows


def test_schema_is_versioned_migrated_once_and_a_newer_one_refused(store_url: str) -> None:
    target = target_of(store_url, Path("."))
    with Store(target) as store:
        assert store.schema_version() == LATEST
    with Store(target) as store:  # opening again applies nothing twice
        assert [r["version"] for r in store._select("SELECT version FROM schema_version", [])] == \
            [m[0] for m in MIGRATIONS]
        with store._transaction("test") as cur:
            cur.execute(store._sql("INSERT INTO schema_version VALUES (?, ?, ?)"), (LATEST + 1, "future", "now"))
    with pytest.raises(StoreError, match="newer than this orchestrate"):
        Store(target)


def test_import_is_idempotent_and_export_writes_csv_and_parquet(store_url: str, tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    runs = [str(p) for p in history_runs(tmp_path / "results", runs=3, step_at=None)]
    code, out = cli(capsys, "import", *runs, "--store", store_url)
    assert code == 0 and "9 new result(s)" in out
    code, out = cli(capsys, "import", *runs, "--store", store_url)
    assert code == 0 and "0 new result(s)" in out
    assert count(store_url) == 9
    csv_path, parquet_path = tmp_path / "x.csv", tmp_path / "x.parquet"
    assert cli(capsys, "export", "--store", store_url, "-o", str(csv_path))[0] == 0
    rows = list(csv.DictReader(csv_path.open()))
    assert len(rows) == 9 and {r["host_fingerprint"] for r in rows} and rows[0]["framework_version"] == "2.12.0"
    assert cli(capsys, "export", "--store", store_url, "--format", "parquet", "-o", str(parquet_path))[0] == 0
    import pyarrow.parquet as pq
    table = pq.read_table(parquet_path)
    assert table.num_rows == 9
    assert sorted(table.column("steady_s").to_pylist()) == sorted(float(r["steady_s"]) for r in rows)


# ---------------------------------------------------------------------------------------------- history and gate


def test_history_flags_the_step_where_it_happened_with_what_changed(store_url: str, tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    results = tmp_path / "results"
    runs = history_runs(results, HOST_A, step_at=6) + history_runs(results, HOST_B, None, seed=1, upgrade_at=4)
    assert cli(capsys, "import", *map(str, runs), "--store", store_url)[0] == 0
    page = tmp_path / "history.html"
    code, out = cli(capsys, "history", "--store", store_url, "--html", str(page))
    assert code == 0
    flagged = [line.strip() for line in out.splitlines() if "from run" in line]
    assert len(flagged) == 1, out  # host B's flat series is its own series: nothing flagged there
    assert flagged[0].startswith("keras3-torch × mnist_cnn: 1.1")
    assert "slower from run bench-a-r06, torch 2.12.0 to 2.13.0" in flagged[0]
    ratio, low, high = (float(x) for x in
                        flagged[0].split(": ", 1)[1].replace("x [", " ").replace(",", "").split("]")[0].split())
    assert low <= ratio <= high and low > 1.05 and 1.10 < ratio < 1.20
    html = page.read_text()
    assert html.count("data:image/png;base64,") == 2 and "bench-a-r06" in html
    code, out = cli(capsys, "history", "--store", store_url, "--host", "bench-b")
    assert "bench-a" not in out and "0 change(s) flagged" in out
    # An upgrade that changed nothing: said so, with the interval that bounds the change.
    (note,) = [line.strip() for line in out.splitlines() if "at run bench-b-r04" in line]
    assert "(torch 2.12.0 to 2.13.0): " in note and "after/before" in note and note.endswith("not flagged")
    ratio, low, high = (float(x) for x in note.split("): ")[1].replace("[", "").replace("]", "").replace(",", "").split()[:3])
    assert low <= ratio <= high and 0.97 < low and high < 1.03
    # Across hosts when asked: the two series become one.
    code, out = cli(capsys, "history", "--store", store_url, "--any-host")
    assert out.count("host bench-a, bench-b [any]") == 1


def test_noise_alone_is_not_flagged(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = str(tmp_path / "store.sqlite")
    for seed in range(5):
        runs = history_runs(tmp_path / f"results{seed}", HOST_A, step_at=None, seed=seed)
        assert cli(capsys, "import", *map(str, runs), "--store", store)[0] == 0
        code, out = cli(capsys, "history", "--store", store)
        assert "0 change(s) flagged" in out, out
        Path(store).unlink()


def test_compare_with_the_store_is_a_ci_gate(store_url: str, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    results = tmp_path / "results"
    baseline = history_runs(results, HOST_A, step_at=None, runs=3)
    assert cli(capsys, "import", *map(str, baseline), "--store", store_url)[0] == 0
    slower = write_run(tmp_path / "new", "slower", [1.25, 1.26, 1.24], started="2026-02-01T00:00:00+00:00")
    same = write_run(tmp_path / "new", "same", [1.0, 1.01, 0.995], started="2026-02-01T00:00:00+00:00")
    elsewhere = write_run(tmp_path / "new", "elsewhere", [2.0, 2.0, 2.0], host=HOST_B)
    code, out = cli(capsys, "compare", str(slower), "--baseline", "store", "--store", store_url)
    assert code == 1 and "slower" in out and "bench-a-r00, bench-a-r01, bench-a-r02" in out
    code, out = cli(capsys, "compare", str(same), "--baseline", "store", "--store", store_url)
    assert code == 0 and "0 significantly slower" in out
    code, out = cli(capsys, "compare", str(elsewhere), "--baseline", "store", "--store", store_url)
    assert code == 0 and "no baseline" in out  # another host is never a baseline


# ---------------------------------------------------------------------------------------------- concurrency, faults


def test_two_processes_writing_at_once_lose_nothing(store_url: str, tmp_path: Path) -> None:
    batches = [[str(p) for p in history_runs(tmp_path / f"results{w}", HostInfo(hostname=f"w{w}", cpu="c",
                                                                                   cpu_count=2), runs=12)]
               for w in range(2)]
    go = tmp_path / "go"
    waits = ("import sys, time; from pathlib import Path; from orchestrator.cli import main\n"
             "Path(sys.argv[2]).touch()\n"
             "while not Path(sys.argv[1]).exists(): time.sleep(0.01)\n"
             "sys.exit(main(sys.argv[3:]))")  # both processes ready (imports done) before either writes
    writers = [subprocess.Popen([sys.executable, "-c", waits, str(go), str(tmp_path / f"ready{w}"), "import", *runs,
                                 "--store", store_url],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
               for w, runs in enumerate(batches)]
    deadline = time.monotonic() + 120
    while len(list(tmp_path.glob("ready*"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    go.touch()
    outputs = [w.communicate(timeout=300)[0] for w in writers]
    assert [w.returncode for w in writers] == [0, 0], outputs
    assert count(store_url) == 2 * 12 * 3


def test_a_locked_sqlite_store_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    store = tmp_path / "store.sqlite"
    Store(target_of(str(store), tmp_path)).close()
    holder = sqlite3.connect(store, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    monkeypatch.setenv("ORCHESTRATE_STORE_BUSY_S", "0.5")
    try:
        code, out = cli(capsys, "import", str(write_run(tmp_path / "r", "one", [1.0, 1.0])), "--store", str(store))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert code == 3 and "database is locked" in out and str(store) in out and "ORCHESTRATE_STORE_BUSY_S" in out


def test_a_corrupt_sqlite_store_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "store.sqlite"
    store.write_bytes(b"this is no database " * 400)
    code, out = cli(capsys, "import", str(write_run(tmp_path / "r", "one", [1.0, 1.0])), "--store", str(store))
    assert code == 3 and "damaged" in out and "orchestrate import" in out


def test_an_unreachable_postgresql_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"postgresql://nobody:secret@127.0.0.1:{free_port()}/results"
    code, out = cli(capsys, "history", "--store", url)
    assert code == 3 and "unreachable" in out and "secret" not in out


def test_the_matrix_store_field_is_where_a_run_is_recorded(tmp_path: Path) -> None:
    from orchestrator.workflows.record import record_run
    from rich.console import Console

    run = write_run(tmp_path / "results", "one", [1.0, 1.1])
    matrix = tmp_path / "matrix.yaml"
    matrix.write_text("version: 1\n")
    team = tmp_path / "team.sqlite"
    assert record_run(None, tmp_path / "results", str(team), matrix, run,
                      Console(file=open(os.devnull, "w")))
    assert count(str(team)) == 2 and not (tmp_path / "results" / "store.sqlite").exists()
    provenance = json.loads((run / "provenance.json").read_text())
    assert len(provenance["matrix_hash"]) == 16


# ---------------------------------------------------------------------------------------------- real runs


@pytest.mark.integration
def test_real_runs_are_recorded_even_interrupted_and_a_broken_store_loses_no_result(
        repo: Path, env_cache: Path, tmp_path: Path, pg_server, capsys) -> None:  # noqa: ANN001
    matrix = repo / "tests" / "workloads" / "matrix.yaml"
    url = create_database(pg_server, "realrun")
    results = tmp_path / "results"
    base = ["run", str(matrix), "--workload", "sleepy", "--cache-dir", str(env_cache), "--results-dir", str(results),
            "--no-report", "--monitor-hz", "0"]
    # Ctrl-C after the first repeat: the run stops (130) and what it wrote is in the team's PostgreSQL store.
    proc = subprocess.Popen([sys.executable, "-m", "orchestrator.cli", *base, "--profile", "pair", "--run-id",
                             "to-postgres", "--store", url], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    first = results / "to-postgres" / "cells" / "keras3-jax__sleepy__pair__r0.json"
    deadline = time.monotonic() + 300
    while not first.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=180)
    written = sorted(p.name for p in first.parent.glob("*.json"))
    assert proc.returncode == 130 and f"store: {len(written)} new result(s) of {len(written)}" in out, out
    with Store(target_of(url, tmp_path)) as store:
        rows = store.results()
    assert sorted(f"{r['cell_id']}.json" for r in rows) == written
    row = rows[0]
    assert row["run_id"] == "to-postgres" and row["steady_s"] > 0 and row["git_commit"] and row["matrix_hash"]
    assert row["framework_version"] and row["host_fingerprint"]
    # A damaged default store with --store-later (the check before the first cell skipped): the run says so at its
    # end (exit 3, the import command to use later) and its JSON is written.
    (results / "store.sqlite").write_bytes(b"garbage " * 1000)
    code, out = cli(capsys, *base, "--profile", "test", "--run-id", "broken-store", "--store-later")
    assert code == 3 and "damaged" in out and "orchestrate import" in out
    cell = results / "broken-store" / "cells" / "keras3-jax__sleepy__test__r0.json"
    assert read_cell(cell).status == "ok"  # the run's JSON is written regardless
