"""Rows of the store from a run's JSON: one row per cell result, one per run, and the run's provenance.

The host fingerprint is what makes two timings comparable: the CPU model and its core count, the GPU model and
the driver (not the hostname: two identical cloud machines share a fingerprint; one machine after a driver update
does not). Provenance (the project's git commit, the matrix's hash) is written beside the run's cells as
`provenance.json`, so that a run imported later carries it too.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from orchestrator.results.schema import CellResult, HostInfo
from orchestrator.core.files import write_json_atomic
from orchestrator.analysis.stats import steady_state

PROJECT = Path(__file__).resolve().parents[2]  # the checkout holding orchestrator/ (its commit is the run's)

PROVENANCE_FILE = "provenance.json"


class Provenance(BaseModel):
    """What produced a run besides its environments: the project's commit and the matrix's content hash."""

    git_commit: str | None = None
    matrix_hash: str | None = None
    matrix_path: str | None = None


def provenance_of(matrix_path: Path) -> Provenance:
    """The commit of the project's git checkout (the one holding the orchestrator; None outside one, e.g. a copy on
    a GPU machine without git) and the sha256 of the matrix file."""
    digest = hashlib.sha256(matrix_path.read_bytes()).hexdigest()[:16] if matrix_path.is_file() else None
    return Provenance(git_commit=git_commit(PROJECT), matrix_hash=digest, matrix_path=str(matrix_path))


def git_commit(folder: Path) -> str | None:
    """HEAD's commit of the git checkout holding `folder`, read from its files (no git binary: a GPU machine's copy
    may have none); None outside a checkout or when it cannot be read."""
    gitdir = _gitdir(folder)
    if gitdir is None:
        return None
    try:
        head = (gitdir / "HEAD").read_text().strip()
        if not head.startswith("ref: "):
            return head or None  # a detached HEAD holds the commit itself
        ref = head[len("ref: "):]
        common = gitdir / (gitdir / "commondir").read_text().strip() if (gitdir / "commondir").is_file() else gitdir
        for place in (gitdir, common):
            if (place / ref).is_file():
                return (place / ref).read_text().strip() or None
        packed = common / "packed-refs"
        for line in packed.read_text().splitlines() if packed.is_file() else []:
            if line.endswith(" " + ref):
                return line.split()[0]
    except OSError:
        return None
    return None


def _gitdir(folder: Path) -> Path | None:
    """The git directory of the checkout holding `folder` (a worktree's `.git` file points at it)."""
    for parent in (folder, *folder.parents):
        dot_git = parent / ".git"
        if dot_git.is_dir():
            return dot_git
        if dot_git.is_file():
            text = dot_git.read_text().strip()
            return (parent / text[len("gitdir: "):]).resolve() if text.startswith("gitdir: ") else None
    return None


def write_provenance(run_path: Path, provenance: Provenance) -> None:
    write_json_atomic(run_path / PROVENANCE_FILE, provenance.model_dump())


def read_provenance(run_path: Path) -> Provenance:
    """The run's provenance.json, or an empty Provenance for a run written before the store existed."""
    path = run_path / PROVENANCE_FILE
    try:
        return Provenance.model_validate(json.loads(path.read_text()))
    except (OSError, ValueError):
        return Provenance()


def host_fingerprint(host: HostInfo) -> str:
    """A short hash of CPU model, core count, GPU model(s) and driver: equal hosts time alike."""
    gpu, driver = _gpu(host)
    text = "|".join(str(x) for x in (host.cpu, host.cpu_count, gpu, driver))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _gpu(host: HostInfo) -> tuple[str | None, str | None]:
    names = sorted({str(g.get("name")) for g in host.gpus if g.get("name")})
    drivers = sorted({str(g.get("driver")) for g in host.gpus if g.get("driver")})
    return (", ".join(names) or None), (", ".join(drivers) or None)


def run_key(run_id: str, results: list[CellResult], instance: str | None = None) -> str:
    """A run is its id on its host(s) and, where its folder has one, its instance (rundir/instance.py: kept by
    `--resume`, new after `--fresh`, so a run moved aside and the run after it are two runs). Importing the same
    folder twice, or from a copy, gives the same key; a folder without an instance keeps the key it always had."""
    hosts = sorted({f"{r.host.hostname}/{host_fingerprint(r.host)}" for r in results})
    parts = [run_id, *hosts, *([f"instance={instance}"] if instance else [])]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:20]


def _started(results: list[CellResult]) -> str | None:
    times = [r.started_at for r in results if r.started_at]
    return min(times) if times else None


def run_row(key: str, results: list[CellResult], provenance: Provenance, source: str) -> dict[str, Any]:
    first = results[0]
    finished = [r.finished_at for r in results if r.finished_at]
    return {
        "run_key": key, "run_id": first.run_id, "hostname": first.host.hostname,
        "host_fingerprint": host_fingerprint(first.host), "started_at": _started(results),
        "finished_at": max(finished) if finished else None, "git_commit": provenance.git_commit,
        "matrix_hash": provenance.matrix_hash, "source": source,
        "recorded_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }


def result_row(key: str, run_started_at: str | None, result: CellResult, provenance: Provenance) -> dict[str, Any]:
    env, work, t, host = result.environment, result.workload, result.timings, result.host
    gpu, driver = _gpu(host)
    steady = t.steady_state_s if t.steady_state_s is not None else steady_state(t.epochs_s)
    return {
        "run_key": key, "cell_id": result.cell_id, "run_id": result.run_id, "run_started_at": run_started_at,
        "environment": env.name, "backend": env.backend, "workload": work.name, "profile": work.profile,
        "repeat": work.repeat, "status": result.status, "reason": result.reason,
        "steady_s": steady if result.status == "ok" else None, "first_epoch_s": t.first_epoch_s,
        "epochs": work.epochs, "samples_per_s": t.samples_per_s,
        "test_accuracy": result.metrics.test.get("accuracy"),
        "keras_version": env.keras_version, "framework_version": env.framework_version,
        "python_version": env.python_version, "numpy_version": env.numpy_version,
        "packages": json.dumps(env.packages, sort_keys=True), "env_hash": env.env_hash, "runtime": env.runtime,
        "device": host.device, "hostname": host.hostname, "host_fingerprint": host_fingerprint(host),
        "cpu": host.cpu, "gpu": gpu, "driver": driver, "cpu_count": host.cpu_count,
        "threads": result.threads.requested, "load_1m": host.load_average[0] if host.load_average else None,
        "data_source": result.data.source, "started_at": result.started_at, "finished_at": result.finished_at,
        "git_commit": provenance.git_commit, "matrix_hash": provenance.matrix_hash,
    }


def rows_of_run(results: list[CellResult], provenance: Provenance, source: str, instance: str | None = None) -> tuple[
        dict[str, Any], list[dict[str, Any]]]:
    """The run's row and its results' rows (results: every readable cell of one run, at least one; instance: its
    folder's, see `run_key`)."""
    key = run_key(results[0].run_id, results, instance)
    run = run_row(key, results, provenance, source)
    return run, [result_row(key, run["started_at"], r, provenance) for r in results]
