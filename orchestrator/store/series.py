"""Series of the store: one environment x workload x profile on one host, one point per run with at least one ok
result (its repeats' steady states), oldest first."""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from typing import Any

from orchestrator.analysis.changes import Point


@dataclass(frozen=True)
class Series:
    environment: str
    workload: str
    profile: str
    host: str  # the host fingerprint, or "any" with --any-host
    hostnames: list[str]
    points: list[Point]
    loads: list[float | None]  # each run's median 1-minute load average before its cells

    @property
    def name(self) -> str:
        return f"{self.environment} × {self.workload}"

    @property
    def title(self) -> str:
        return f"{self.name} ({self.profile}, host {', '.join(self.hostnames)} [{self.host}])"


def matches_host(row: dict[str, Any], host: str | None) -> bool:
    """--host: a hostname, or a fingerprint (or its first characters)."""
    return host is None or row["hostname"] == host or str(row["host_fingerprint"]).startswith(host)


def versions(row: dict[str, Any]) -> dict[str, str]:
    """What ran: every package's version, the Python and, on a GPU, the driver."""
    found = dict(json.loads(row["packages"] or "{}"))
    found["python"] = row["python_version"]
    if row["driver"]:
        found["driver"] = row["driver"]
    return {k: str(v) for k, v in found.items() if v is not None}


def build_series(rows: list[dict[str, Any]], any_host: bool = False) -> list[Series]:
    """Group result rows into series (rows oldest first, as Store.results returns them)."""
    grouped: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        host = "any" if any_host else row["host_fingerprint"]
        grouped.setdefault((row["environment"], row["workload"], row["profile"], host), []).append(row)
    found = [_series(key, mine) for key, mine in sorted(grouped.items())]
    return [s for s in found if s.points]


def _series(key: tuple[str, ...], rows: list[dict[str, Any]]) -> Series:
    runs: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        runs.setdefault(row["run_key"], []).append(row)
    points, loads = [], []
    for run_rows in runs.values():
        ok = [r for r in run_rows if r["status"] == "ok" and r["steady_s"] is not None]
        if not ok:  # a run with no timing (every cell failed) has no point in a series of timings
            continue
        first = ok[0]
        points.append(Point(first["run_id"], first["run_started_at"], [float(r["steady_s"]) for r in ok],
                            versions(first)))
        load = [r["load_1m"] for r in run_rows if r["load_1m"] is not None]
        loads.append(statistics.median(load) if load else None)
    hostnames = sorted({str(r["hostname"]) for r in rows})
    return Series(*key, hostnames=hostnames, points=points, loads=loads)
