"""The report's family of decisions: every pair a report decides (each backend against the reference, the
fastest against the runner-up, the article's claims), in every phase it judges (training, prediction,
generation: analysis/verdicts/phases.py), adjusted together by Holm so that the chance of any false "faster" or
"slower" in the whole report is at most alpha."""

from __future__ import annotations

from dataclasses import dataclass

from orchestrator.analysis.sequential import PairState, stop_reason
from orchestrator.analysis.verdicts.pairs import PairTest, adjust_family, decide
from orchestrator.analysis.verdicts.rows import PHASES, Phase, WorkloadVerdict
from orchestrator.analysis.verdicts.settings import Settings

Slot = tuple[str, str, str]  # where a decision is shown: ("row" | "margin" | "pair", A, B)
Key = tuple[str, str, Phase, frozenset[str]]  # a decision: workload, profile, phase, {A, B}


@dataclass(frozen=True)
class Decision:
    """One decision of the report as it is told: B against A (the test's ratio is B / A). `lead`: A is the
    workload's fastest valid backend and B its runner-up; `valid`: both backends count; `stopped`: why a
    sequential run's pair has the repeats it has (None without looks); `phase`: what was timed (train, predict,
    generate)."""

    workload: str
    profile: str
    a: str
    b: str
    test: PairTest
    lead: bool
    valid: bool
    stopped: str | None = None
    phase: Phase = "train"


def decisions(verdicts: list[WorkloadVerdict]) -> dict[Key, list[Slot]]:
    """The family: every distinct pair (workload, profile, phase, {A, B}) a report decides, with the places it is
    shown (the same pair as a row, the margin and a claim is one decision; the same pair timed in two phases is
    two)."""
    family: dict[Key, list[Slot]] = {}
    for v in verdicts:
        shown = [("row", v.reference, r.environment) for r in v.rows if r.vs_reference is not None]
        if v.margin is not None and v.fastest is not None and v.runner_up is not None:
            shown.append(("margin", v.fastest.environment, v.runner_up.environment))
        shown += [("pair", a, b) for a, b in v.pairs]
        for slot in shown:
            family.setdefault((v.workload, v.profile, v.phase, frozenset(slot[1:])), []).append(slot)
    return family


def _adjust(verdicts: list[WorkloadVerdict], settings: Settings) -> None:
    by_key = {v.phase_key: v for v in verdicts}
    family = decisions(verdicts)
    tests = {key: _shown(by_key[key[:3]], slots[0]) for key, slots in family.items()}
    adjusted = adjust_family(tests, settings)
    for key, slots in family.items():
        p_adjusted = adjusted[key].p_adjusted
        for slot in slots:
            test = _shown(by_key[key[:3]], slot)
            if p_adjusted is not None and test.p_sequential is not None:
                _store(by_key[key[:3]], slot, decide(test, p_adjusted, settings.tie_threshold, settings.alpha))


def _shown(v: WorkloadVerdict, slot: Slot) -> PairTest:
    kind, a, b = slot
    if kind == "pair":
        return v.pairs[(a, b)]
    if kind == "margin":
        assert v.margin is not None
        return v.margin
    row = v.row(b)
    assert row is not None and row.vs_reference is not None
    return row.vs_reference


def _store(v: WorkloadVerdict, slot: Slot, test: PairTest) -> None:
    kind, a, b = slot
    if kind == "pair":
        v.pairs[(a, b)] = test
    elif kind == "margin":
        v.margin = test
    else:
        row = v.row(b)
        assert row is not None
        row.vs_reference = test


# ------------------------------------------------------------------------------------------ sequential repeats


def pair_states(verdicts: list[WorkloadVerdict]) -> list[PairState]:
    """Every decision of the report as the sequential rule sees it (analysis/sequential.py: next_round)."""
    by_key = {v.phase_key: v for v in verdicts}
    states = []
    for key, slots in decisions(verdicts).items():
        v = by_key[key[:3]]
        _, a, b = slots[0]
        test = _shown(v, slots[0])
        rows = [v.row(a), v.row(b)]
        valid = all(r is not None and r.validity.valid for r in rows)
        states.append(PairState(a, b, test.n_a, test.n_b, test.verdict, valid, v.workload, v.profile,
                                test.aside_a, test.aside_b))
    return states


def told(verdicts: list[WorkloadVerdict], settings: Settings) -> list[Decision]:
    """Every decision of the report once (the margin's side where the pair is also one), per workload its phases
    in order (train, predict, generate), each the lead first; the tests as the family decided them."""
    by_key = {v.phase_key: v for v in verdicts}
    plan = settings.plan
    out = []
    for (key, slots), state in zip(decisions(verdicts).items(), pair_states(verdicts)):
        v = by_key[key[:3]]
        slot = next((s for s in slots if s[0] == "margin"), slots[0])
        stopped = stop_reason(state, plan) if plan.sequential and v.phase == "train" else None  # rounds: training
        out.append(Decision(v.workload, v.profile, slot[1], slot[2], _shown(v, slot), slot[0] == "margin",
                            state.valid, stopped, v.phase))
    order = {key: i for i, key in enumerate(dict.fromkeys(v.key for v in verdicts))}
    return sorted(out, key=lambda d: (order[(d.workload, d.profile)], PHASES.index(d.phase), not d.lead))
