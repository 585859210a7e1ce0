"""Per workload x profile: every backend's ratio to the reference, the fastest valid backend and its margin
over the runner-up, each decision adjusted with the rest of the report's family."""

from __future__ import annotations

from orchestrator.analysis.equivalence import judge
from orchestrator.analysis.stats import Group
from orchestrator.analysis.verdicts.family import _adjust
from orchestrator.analysis.verdicts.pairs import PairTest, pair_test

# --------------------------------------------------------------------------------------------- per workload
from orchestrator.analysis.verdicts.rows import BackendRow, WorkloadVerdict
from orchestrator.analysis.verdicts.settings import (
    DEFAULT_REFERENCE,
    KERAS3_REFERENCE,
    Settings,
)
from orchestrator.analysis.verdicts.validity import check_validity


def choose_reference(environments: list[str], settings: Settings) -> str:
    for candidate in (settings.reference, DEFAULT_REFERENCE, KERAS3_REFERENCE):
        if candidate and candidate in environments:
            return candidate
    return environments[0]


def workload_verdicts(groups: list[Group], settings: Settings = Settings(),
                      extra_pairs: tuple[tuple[str, str, str], ...] = ()) -> list[WorkloadVerdict]:
    """One training verdict per workload x profile, in first-seen order, every decision adjusted together (Holm)
    as the only family (a report adds its other phases to the family: assemble.py `build`)."""
    verdicts = training_verdicts(groups, settings, extra_pairs)
    _adjust(verdicts, settings)
    return verdicts


def training_verdicts(groups: list[Group], settings: Settings = Settings(),
                      extra_pairs: tuple[tuple[str, str, str], ...] = ()) -> list[WorkloadVerdict]:
    """One training verdict (steady s/epoch) per workload x profile, in first-seen order, its tests not yet adjusted
    (the caller adjusts its whole family: family.py `_adjust`). `extra_pairs`: (workload, A, B) decisions the
    report makes besides the verdict table (the article's claims), on every profile of that workload where both
    ran."""
    keys = list(dict.fromkeys((g.workload, g.profile) for g in groups))
    verdicts = [_workload_verdict(w, p, [g for g in groups if (g.workload, g.profile) == (w, p)], settings)
                for w, p in keys]
    for v in verdicts:
        for workload, a, b in extra_pairs:
            row_a, row_b = v.row(a), v.row(b)
            if workload == v.workload and row_a is not None and row_b is not None:
                v.pairs[(a, b)] = _pair(row_a.group, row_b.group, settings)
    return verdicts


def _pair(a: Group, b: Group, settings: Settings) -> PairTest:
    return pair_test(a.steady_samples, b.steady_samples, settings.tie_threshold, settings.alpha, settings.plan)


def _workload_verdict(workload: str, profile: str, groups: list[Group], settings: Settings) -> WorkloadVerdict:
    reference = choose_reference([g.environment for g in groups], settings)
    ref_group = next(g for g in groups if g.environment == reference)
    rows, judged = [], judge(groups)
    for g in groups:
        validity = check_validity(g, [o for o in groups if o is not g], settings.gate(profile), judged)
        rows.append(BackendRow(g, validity, None if g is ref_group else _pair(ref_group, g, settings)))
    return ranked(WorkloadVerdict(workload, profile, reference, rows, settings))


def ranked(verdict: WorkloadVerdict) -> WorkloadVerdict:
    """The verdict's rows in order (valid backends by median time, then the excluded ones), its fastest valid
    backend, the runner-up and the margin between them, on the phase's samples."""
    rows = verdict.rows
    valid = sorted((r for r in rows if r.validity.valid and r.median is not None), key=lambda r: r.median or 0)
    verdict.rows = valid + [r for r in rows if r not in valid]
    if valid:
        verdict.fastest = valid[0]
    if len(valid) > 1:
        s = verdict.settings
        verdict.runner_up = valid[1]
        verdict.margin = pair_test(valid[0].samples, valid[1].samples, s.tie_threshold, s.alpha, s.plan)
    return verdict
