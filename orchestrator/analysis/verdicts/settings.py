"""How verdicts are made: the tie threshold, the family-wise alpha, the reference, the sequential design, the gates."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from orchestrator.analysis.sequential import Design

TIE_THRESHOLD = 0.05  # a difference under 5% (either way, on the log scale) is never called faster or slower
ALPHA = 0.05  # family-wise: the chance of any false faster/slower in a whole report (Holm)
DEFAULT_REFERENCE = "tensorflow1"  # the article's TensorFlow environment
KERAS3_REFERENCE = "keras3-tensorflow"  # where tensorflow1 did not run (today's models): TensorFlow under Keras 3

Gate = Literal["accuracy", "loss"]
# What a validity was judged on: synthetic data, finite loss only; equivalence: accuracy at chance on every backend,
# the same computation checked (analysis/equivalence.py) and the training loss judged instead.
Basis = Literal["accuracy", "loss", "synthetic", "equivalence"]

Verdict = Literal["faster", "slower", "tie", "no clear difference", "one repeat: no verdict", "not comparable"]


@dataclass(frozen=True)
class Settings:
    """How verdicts are made; `orchestrate run` takes them from the matrix, `report` from its flags."""

    reference: str | None = None  # None: tensorflow1, else keras3-tensorflow where present, else the run's first
    tie_threshold: float = TIE_THRESHOLD
    alpha: float = ALPHA
    looks: tuple[int, ...] = ()  # a sequential run's looks (repeats per environment); (): one look at all
    spending: tuple[float, ...] = ()  # the fraction of alpha spent at each look
    loss_gate: tuple[str, ...] = ()  # profiles declared `validity: loss`: judged on training loss, not accuracy
    unjudged: tuple[tuple[str, str], ...] = ()  # (profile, phase) left out of the verdicts (profiles.<p>.judge)

    def gate(self, profile: str) -> Gate:
        return "loss" if profile in self.loss_gate else "accuracy"

    def judges(self, profile: str, phase: str) -> bool:
        """Whether the profile's `judge` list has the phase (every phase unless the matrix said otherwise)."""
        return (profile, phase) not in self.unjudged

    @property
    def plan(self) -> Design:
        return Design(tuple(self.looks), tuple(self.spending))
