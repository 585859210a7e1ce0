"""What a workload's verdict holds: one row per backend (its validity and its ratio to the reference) and the
verdict itself (the fastest valid backend, its margin, the pairs it decides), for one phase: training (steady
s/epoch), prediction (predict ms/step) or generation (ms per generated token; analysis/verdicts/phases.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from orchestrator.analysis.stats import Estimate, Group
from orchestrator.analysis.verdicts.pairs import PairTest
from orchestrator.analysis.verdicts.settings import (
    Basis,
    Settings,
)
from orchestrator.analysis.verdicts.validity import SPEED_ONLY, Validity

Phase = Literal["train", "predict", "generate"]
PHASES: tuple[Phase, ...] = ("train", "predict", "generate")

# --------------------------------------------------------------------------------------------- per workload


@dataclass
class BackendRow:
    group: Group
    validity: Validity
    vs_reference: PairTest | None  # None for the reference itself
    phase_samples: list[float] | None = None  # predict / generate: one time per repeat (None: the steady states)
    phase_estimate: Estimate | None = None  # their median over repeats, with its interval

    @property
    def environment(self) -> str:
        return self.group.environment

    @property
    def samples(self) -> list[float]:
        """The phase's samples, one per repeat: training's steady states, or the phase's own times."""
        return self.group.steady_samples if self.phase_samples is None else self.phase_samples

    @property
    def estimate(self) -> Estimate | None:
        return self.group.steady if self.phase_samples is None else self.phase_estimate

    @property
    def median(self) -> float | None:
        estimate = self.estimate
        return estimate.median if estimate else None


@dataclass
class WorkloadVerdict:
    workload: str
    profile: str
    reference: str
    rows: list[BackendRow]  # valid backends by median time, then the excluded ones
    settings: Settings
    fastest: BackendRow | None = None
    runner_up: BackendRow | None = None
    margin: PairTest | None = None  # the runner-up against the fastest: ratio above 1 is the fastest's lead
    pairs: dict[tuple[str, str], PairTest] = field(default_factory=dict)  # other decisions (the claims): (A, B)
    phase: Phase = "train"

    @property
    def key(self) -> tuple[str, str]:
        return (self.workload, self.profile)

    @property
    def phase_key(self) -> tuple[str, str, Phase]:
        return (self.workload, self.profile, self.phase)

    def row(self, environment: str) -> BackendRow | None:
        return next((r for r in self.rows if r.environment == environment), None)

    def test(self, a: str, b: str) -> PairTest | None:
        """B against A as the family decided it (None: not one of this report's decisions)."""
        return self.pairs.get((a, b))

    @property
    def excluded(self) -> list[BackendRow]:
        return [r for r in self.rows if not r.validity.valid]

    @property
    def gate(self) -> Basis:
        """What validity was judged on: the profile's gate, or `synthetic` where every backend that ran was judged
        on synthetic data, or `equivalence` where a backend counts because the accuracy is at chance on every backend
        and the backends computed the same model (`check_validity` decides that per row)."""
        ran = [r for r in self.rows if r.group.ok]
        if ran and all(r.validity.gate == "synthetic" for r in ran):
            return "synthetic"
        if any(r.validity.gate == "equivalence" and r.validity.valid for r in ran):
            return "equivalence"
        return self.settings.gate(self.profile)

    def statement(self, short: bool = False, speed_only: bool = True) -> str:
        """One sentence: the fastest valid backend and how sure that is (`short`: without the numbers, which a
        table shows beside it); a `validity: loss` profile's, or one on synthetic data, says it is speed only
        (`speed_only` False: left to the caller, a table that says it once)."""
        return self._statement(short) + (SPEED_ONLY.get(self.gate, "") if speed_only else "")

    def _statement(self, short: bool) -> str:
        if self.fastest is None:
            return "no valid backend with a steady state" if self.phase == "train" else \
                f"no valid backend timed to {self.phase}"
        name = self.fastest.environment
        if self.runner_up is None or self.margin is None:
            return f"{name}: the only valid backend"
        other = self.runner_up.environment
        lead = self.margin
        threshold = f"{self.settings.tie_threshold:.0%}"
        if lead.verdict == "slower" and lead.ratio is not None:
            if short:
                return f"{name} fastest: {other} takes {lead.ratio:.2f}x as long"
            return (f"{name} fastest: {other} takes {lead.ratio:.2f}x its time "
                    f"[{lead.low:.2f}, {lead.high:.2f}], p={lead.describe_p()}")
        if lead.verdict == "tie":
            return f"{name} and {other} tie (within {threshold})"
        if lead.verdict == "one repeat: no verdict":
            return f"{name} fastest by median, one repeat: no verdict over {other}"
        if short:
            return f"{name} fastest by median, not clearly ahead of {other}"
        return f"{name} fastest by median, not clearly ahead of {other} ({lead.describe()}, p={lead.describe_p()})"
