"""Across workloads: the ranking by the geometric mean of each backend's ratios to the reference (the backends
valid on every workload first) and the Dolan-More performance profile."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field

from orchestrator.analysis.verdicts.rows import WorkloadVerdict

# ------------------------------------------------------------------------------------------- across workloads


@dataclass(frozen=True)
class Rank:
    environment: str
    backend: str
    geomean: float  # geometric mean of the ratios to the reference (below 1: faster than the reference)
    workloads: int  # how many workloads it is over
    fastest_on: int  # workloads where it is the fastest valid backend
    complete: bool = True  # valid on every workload where the reference is: ranked over the same workloads


def ranking(verdicts: list[WorkloadVerdict]) -> list[Rank]:
    """Backends by the geometric mean of their ratios to the reference. Geometric means over different workloads
    do not compare: the backends valid on every workload where the reference is valid are ranked first (over
    those same workloads), then the others over theirs, marked incomplete."""
    ratios: dict[str, list[float]] = {}
    backends: dict[str, str] = {}
    wins: dict[str, int] = {}
    compared = 0
    for v in verdicts:
        if v.fastest is not None:  # a win counts whether or not the reference is valid there
            wins[v.fastest.environment] = wins.get(v.fastest.environment, 0) + 1
            backends[v.fastest.environment] = v.fastest.group.backend
        ref = v.row(v.reference)
        if ref is None or not ref.validity.valid or ref.median is None:
            continue
        compared += 1
        for row in v.rows:
            if not row.validity.valid or row.median is None:
                continue
            backends[row.environment] = row.group.backend
            ratio = 1.0 if row.vs_reference is None else row.vs_reference.ratio
            if ratio:
                ratios.setdefault(row.environment, []).append(ratio)
    ranks = [Rank(env, backends[env], math.exp(statistics.fmean(math.log(r) for r in rs)), len(rs),
                  wins.get(env, 0), len(rs) == compared) for env, rs in ratios.items()]
    return sorted(ranks, key=lambda r: (not r.complete, r.geomean))


@dataclass(frozen=True)
class ProfileCurve:
    environment: str
    backend: str
    factors: list[float] = field(default_factory=list)  # per workload: time / fastest valid time (inf: invalid)

    def share_within(self, tau: float) -> float:
        """rho(tau): the share of workloads on which this backend is within a factor tau of the fastest."""
        return sum(1 for f in self.factors if f <= tau) / len(self.factors) if self.factors else 0.0


def performance_profile(verdicts: list[WorkloadVerdict]) -> list[ProfileCurve]:
    """Dolan-More: per workload the ratio of each backend's median time to the fastest valid one's; a backend
    that is invalid or missing on a workload gets infinity there (it never solves it)."""
    environments = list(dict.fromkeys(r.environment for v in verdicts for r in v.rows))
    backends = {r.environment: r.group.backend for v in verdicts for r in v.rows}
    curves = {env: ProfileCurve(env, backends[env]) for env in environments}
    for v in verdicts:
        if v.fastest is None or not v.fastest.median:
            continue
        best = v.fastest.median
        for env in environments:
            row = v.row(env)
            ok = row is not None and row.validity.valid and row.median is not None
            curves[env].factors.append(row.median / best if ok and row and row.median else math.inf)
    return list(curves.values())
