"""Did the backends of one workload x profile compute the same thing? The equivalence check's records compared.

Each Keras 3 cell records, before fit, its outputs in inference mode, its loss and its global gradient norm on
reference weights and a fixed batch that are the same on every backend (workloads/equivalence.py; the result's
`equivalence`). Here, per repeat index (the seed, hence the weights, goes with the repeat), each backend's numbers
are compared with the others': outputs against the elementwise median over the backends (the consensus; with two
backends, against each other), loss and gradient norm by relative difference. A backend beyond the tolerance of
its dtype policy differs; one whose batch or weights hash is not the others' could not be compared (it is not
excluded for that). The tolerances were set from measurement: docs/statistics.md, "The equivalence check".
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from dataclasses import dataclass
from typing import Any, Literal

from orchestrator.analysis.stats import Group

# Relative differences (outputs: largest absolute difference over the largest absolute value) measured
# between keras3-tensorflow, keras3-jax and keras3-torch on CPU over eight models: at most 1.0e-6 in float32 and
# 7.2e-3 under mixed_bfloat16 (docs/statistics.md); the tolerances leave a margin of 100x and about 7x over those.
TOLERANCE_FLOAT32 = 1e-4
TOLERANCE_MIXED = 5e-2
PARTS = (("outputs", "outputs"), ("loss", "loss"), ("grad_norm", "gradient norm"))
Status = Literal["passed", "differs", "not compared"]


def tolerance(policy: str | None, device: str | None = None) -> float:
    """The tolerance of a dtype policy: float32 (or unrecorded) narrow, a 16-bit or mixed policy wide. On a GPU
    float32 gets the wide one too: TensorFlow and JAX multiply float32 in TF32 there by default (10-bit mantissas,
    as float16's), which the CPU measurements do not cover."""
    if policy and ("16" in policy or "mixed" in policy):
        return TOLERANCE_MIXED
    return TOLERANCE_MIXED if device == "gpu" else TOLERANCE_FLOAT32


@dataclass(frozen=True)
class Outcome:
    """One backend's equivalence on a workload x profile: passed, differs (with its numbers) or not compared."""

    environment: str
    status: Status
    reason: str
    differences: tuple[tuple[str, float], ...] = ()  # (part, largest relative difference) over the repeats compared
    tolerance: float = TOLERANCE_FLOAT32

    @property
    def passed(self) -> bool:
        return self.status == "passed"


def record_of(group: Group, repeat: int) -> dict[str, Any] | None:
    """A repeat's equivalence record, with `device` (gpu / cpu) where the framework said where the model ran."""
    result = next((r for r in group.results if r.workload.repeat == repeat and r.equivalence), None)
    if result is None or result.equivalence is None:
        return None
    kind = (result.host.framework_device or {}).get("kind")
    return {**result.equivalence, "device": kind} if kind else result.equivalence


def judge(groups: list[Group]) -> dict[str, Outcome]:
    """Per environment of one workload x profile, its equivalence outcome (absent: it recorded no check)."""
    repeats = sorted({r.workload.repeat for g in groups for r in g.results if r.equivalence})
    found: dict[str, list[Outcome]] = {}
    for repeat in repeats:
        records = {g.environment: rec for g in groups if (rec := record_of(g, repeat)) is not None}
        for env, outcome in compare(records).items():
            found.setdefault(env, []).append(outcome)
    return {env: _worst(env, outcomes) for env, outcomes in found.items()}


def _worst(env: str, outcomes: list[Outcome]) -> Outcome:
    """Differs at any repeat: differs (its largest numbers); else passed where compared; else not compared."""
    for status in ("differs", "passed", "not compared"):
        chosen = [o for o in outcomes if o.status == status]
        if chosen:
            return max(chosen, key=lambda o: max((d for _, d in o.differences), default=0.0))
    raise ValueError(f"{env}: no outcome")


def compare(records: dict[str, dict[str, Any]]) -> dict[str, Outcome]:
    """One repeat's records (environment -> record): each backend against the consensus of the backends that saw
    the same batch and weights (the largest such set; float32 backends make the consensus where two or more)."""
    outcomes: dict[str, Outcome] = {}
    keyed = {}
    for env, rec in records.items():
        key = ((rec.get("batch") or {}).get("sha256"), rec.get("weights_sha256"))
        if None in key:
            errors = "; ".join(f"{k}: {v}" for k, v in (rec.get("errors") or {}).items()) or "no hashes recorded"
            outcomes[env] = Outcome(env, "not compared", f"the equivalence check did not run through ({errors})")
        else:
            keyed[env] = key
    counts = Counter(keyed.values()).most_common()
    majority = counts[0][0] if counts and counts[0][1] >= 2 and (len(counts) == 1 or counts[1][1] < counts[0][1]) \
        else None
    for env, key in keyed.items():
        if key != majority:
            outcomes[env] = Outcome(env, "not compared", _unlike(env, key, keyed, majority))
    members = {env: records[env] for env, key in keyed.items() if key == majority}
    if members:
        outcomes.update(_judge_members(members))
    return outcomes


def _unlike(env: str, key: tuple[str, str], keyed: dict[str, tuple[str, str]], majority: tuple | None) -> str:
    if len(keyed) < 2:
        return "the equivalence check could not compare it: no other backend recorded one"
    if majority is None:
        return ("the equivalence check could not compare the backends: they did not see the same batch and weights "
                "(sha256 " + ", ".join(f"{e} {k[0][:8]}/{k[1][:8]}" for e, k in sorted(keyed.items())) + ")")
    what = [name for name, mine, theirs in (("batch", key[0], majority[0]), ("weights", key[1], majority[1]))
            if mine != theirs]
    return (f"the equivalence check could not compare it: its {' and '.join(what)} differ from the other "
            f"backends' (sha256 {key[0][:8]}/{key[1][:8]} against {majority[0][:8]}/{majority[1][:8]})")


def _judge_members(members: dict[str, dict[str, Any]]) -> dict[str, Outcome]:
    precise = [env for env, rec in members.items() if _tolerance(rec) == TOLERANCE_FLOAT32]
    base = precise if len(precise) >= 2 else list(members)
    diffs = {env: [] for env in members}  # env -> [(part, difference)]
    for part, _ in PARTS:
        values = {env: _values(rec, part) for env, rec in members.items()}
        for env, mine in values.items():
            others = [values[e] for e in base if e != env] if len(base) == 2 and env in base else \
                [values[e] for e in base]
            difference = _difference(mine, others)
            if difference is not None:
                diffs[env].append((part, difference))
    return {env: _outcome(env, members[env], diffs[env], base) for env in members}


def _tolerance(rec: dict[str, Any]) -> float:
    return tolerance(rec.get("dtype_policy"), rec.get("device"))


def _values(rec: dict[str, Any], part: str) -> list[float] | None:
    if part == "outputs":
        sample = (rec.get("outputs") or {}).get("sample")
        return [math.nan if v is None else float(v) for v in sample] if sample else None  # NaN: null on disk
    value = rec.get(part)
    return [float(value)] if isinstance(value, (int, float)) else None


def _difference(mine: list[float] | None, others: list[list[float] | None]) -> float | None:
    """max |mine - consensus| / max(|mine|, |consensus|) (the consensus: the elementwise median of `others`; the
    scale is both sides' largest value, so two backends differ from each other by one number); inf where a value is
    not finite on one side only; None where there is nothing to compare."""
    others = [o for o in others if o is not None and len(o) == len(mine or [])]
    if not mine or not others:
        return None
    consensus = [statistics.median(column) for column in zip(*others)]
    scale = max(abs(v) for v in [*consensus, *mine] if not math.isnan(v))
    worst = 0.0
    for a, c in zip(mine, consensus):
        if math.isnan(a) and math.isnan(c):
            continue
        gap = abs(a - c)
        worst = math.inf if not math.isfinite(gap) else max(worst, gap)
    return worst / scale if scale > 0 and math.isfinite(scale) else (0.0 if worst == 0 else math.inf)


def _outcome(env: str, rec: dict[str, Any], diffs: list[tuple[str, float]], base: list[str]) -> Outcome:
    tol = _tolerance(rec)
    names = dict(PARTS)
    if not diffs:
        return Outcome(env, "not compared", "the equivalence check could not compare it: no outputs, loss or "
                                            "gradient norm recorded on two backends", (), tol)
    beyond = [(part, d) for part, d in diffs if not d <= tol]
    if not beyond:
        largest = max(d for _, d in diffs)
        compared = [names[p] for p, _ in diffs]
        return Outcome(env, "passed", f"{_and(compared)} within {tol:.0e} of the other backends' (largest "
                                      f"relative difference {largest:.1e})", tuple(diffs), tol)
    (part, first), rest = beyond[0], beyond[1:]
    also = f"; {', '.join(f'{names[p]} by {d:.2g}' for p, d in rest)}" if rest else ""
    verb = "differ" if part == "outputs" else "differs"
    if len(base) == 2 and env in base:
        other = next(e for e in base if e != env)
        return Outcome(env, "differs", f"{env} and {other} disagree with each other: {names[part]} {verb} by "
                                       f"{first:.2g} (tolerance {tol:.0e}{also}); with two backends the check "
                                       f"cannot tell which is right", tuple(diffs), tol)
    return Outcome(env, "differs", f"{names[part]} {verb} by {first:.2g} from the other backends' (tolerance "
                                   f"{tol:.0e}{also})", tuple(diffs), tol)


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
