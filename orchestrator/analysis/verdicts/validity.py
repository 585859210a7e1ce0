"""Validity before speed: a backend whose loss went NaN, whose test accuracy is at chance or far below the
others' (a configuration's: below its base's), or on a `validity: loss` profile whose training loss does not fall
or ends far above the others', is excluded from "fastest" with its reason. On synthetic data only a finite loss
is asked. A Keras 3 backend whose equivalence check (analysis/equivalence.py) differs from the other backends' is
excluded with its numbers; where the accuracy is at chance on every backend, a backend that passed that check is
judged on its training loss instead (the named note CHANCE_EVERYWHERE), as it computed the same model."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

from orchestrator.analysis.equivalence import (
    TOLERANCE_FLOAT32,
    TOLERANCE_MIXED,
    Outcome,
    judge,
)
from orchestrator.analysis.stats import Group
from orchestrator.analysis.verdicts.settings import Basis, Gate

CHANCE = {"mnist": 0.1, "cifar10": 0.1, "babi": 1 / 6}  # QA1 answers are one of six places
CHANCE_FACTOR = 1.5  # test accuracy below chance x 1.5 counts as "at chance"
ACCURACY_GAP = 0.10  # test accuracy this far (absolute) below the other backends' median is "far below"
# `validity: loss`: a final training loss this far (relative) above the others' median is "far above". Wide enough
# for backends that train the same model at different paces (ResNet-50 after 4 epochs: 1.47 on TensorFlow against
# 2.28-2.29 on JAX and PyTorch, each valid), narrow enough for one that barely trains.
LOSS_GAP = 0.5


# ---------------------------------------------------------------------------------------------------- validity


CHANCE_EVERYWHERE = ("accuracy at chance on every backend: too few steps to learn, or BatchNorm moving statistics "
                     "not settled (validation uses them); the speed verdict stands because the backends computed the "
                     "same model (equivalence check passed)")
VALID = {"accuracy": "valid", "loss": "valid by training loss (accuracy not judged)",
         "synthetic": "valid (synthetic data: finite loss, accuracy not judged)",
         "equivalence": "valid by the equivalence check and training loss (accuracy at chance on every backend)"}
SPEED_ONLY = {"loss": " (validity by training loss: speed only)", "synthetic": " (synthetic data: speed only)",
              "equivalence": " (accuracy at chance on every backend, same computation checked: speed only)"}


@dataclass(frozen=True)
class Validity:
    reasons: tuple[str, ...] = ()
    gate: Basis = "accuracy"
    equivalence: Outcome | None = None  # the equivalence check's outcome (None: no Keras 3 check recorded)

    @property
    def valid(self) -> bool:
        return not self.reasons

    def describe(self) -> str:
        return "; ".join(self.reasons) if not self.valid else VALID[self.gate]


def check_validity(group: Group, others: list[Group], gate: Gate = "accuracy",
                   judged: dict[str, Outcome] | None = None) -> Validity:
    """Why this backend's result on the workload cannot count (empty when it can). `others`: the other
    backends on the same workload and profile; `gate`: what shows the backend trained the model (test accuracy,
    or training loss for a `validity: loss` profile); `judged`: the equivalence outcomes of all of them
    (`equivalence.judge`, made once per workload by the caller; None: made here)."""
    basis: Basis = "synthetic" if gate == "accuracy" and group.synthetic else gate
    if not group.ok:
        return Validity((f"no ok repeat ({group.status})",), basis)
    if not group.steady_samples:
        return Validity(("no steady state (fewer than 2 epochs)",), basis)
    reasons = []
    zero = next((r for r in group.ok if r.timings.steady_state_s is not None and r.timings.steady_state_s <= 0), None)
    if zero is not None:
        reasons.append(f"a steady state of 0 s (repeat {zero.workload.repeat}): not a measurement")
    same = (judge([group, *others]) if judged is None else judged).get(group.environment)
    if same is not None and same.status == "differs":
        reasons.append(f"equivalence check: {same.reason}")
    nan = _nan_loss(group)
    if nan:
        reasons.append(nan)
    elif gate == "loss":
        reasons.extend(_loss_reasons(group, others))
    if basis == "accuracy" and same is not None and same.passed and _chance_everywhere(group, others):
        basis = "equivalence"  # CHANCE_EVERYWHERE: the same model, judged on its training loss
        if not nan:
            reasons.extend(_loss_reasons(group, others))
    elif basis == "accuracy":
        reasons.extend(_accuracy_reasons(group, others))
    return Validity(tuple(reasons), basis, same)


def equivalence_method(checked: bool, chance: list[str]) -> str:
    """The method's words on the equivalence check (`checked`: some backend recorded one) and on the workloads whose
    backends count although at chance on every backend (`chance`: 'workload (profile)')."""
    if not checked:
        return ""
    text = (" Keras 3 backends: before timing, each computed the outputs (inference mode), the loss and the gradient "
            "norm of the same reference weights on the same batch; a backend more than the tolerance from the "
            f"others' ({TOLERANCE_FLOAT32:.0e} relative in float32, {TOLERANCE_MIXED:.0e} under a 16-bit policy) is "
            "excluded with its numbers (docs/statistics.md).")
    if chance:
        text += (f" On {', '.join(chance)} the test accuracy is at chance on every backend: those that passed the "
                 "check count when their training loss is finite, falls and ends near the others' (the same model "
                 "computed; the verdict is about speed only).")
    return text


def _at_chance(group: Group) -> bool | None:
    """Whether its test accuracy is at chance (None: no accuracy, synthetic data, or a dataset of unknown chance)."""
    chance = CHANCE.get(group.ok[0].data.dataset or "") if group.ok else None
    if chance is None or group.test_accuracy is None or group.synthetic:
        return None
    return group.test_accuracy < chance * CHANCE_FACTOR


def _chance_everywhere(group: Group, others: list[Group]) -> bool:
    """Every backend of the workload that recorded a test accuracy (two at least) is at chance."""
    judged = [c for c in (_at_chance(g) for g in [group, *others] if g.ok) if c is not None]
    return len(judged) >= 2 and all(judged)


def _accuracy_reasons(group: Group, others: list[Group]) -> list[str]:
    """At chance, or more than ACCURACY_GAP below the others' median; a configuration is held to its base (the
    float32 default run of the same environment) where that ran, as a mixed-precision or eager row must match it."""
    accuracy = group.test_accuracy
    if accuracy is None:
        return []
    reasons = []
    chance = CHANCE.get(group.ok[0].data.dataset or "")
    if chance is not None and accuracy < chance * CHANCE_FACTOR:
        reasons.append(f"test accuracy {accuracy:.3f} is at chance (chance {chance:.3f})")
    base = next((g for g in others if g.environment == group.configuration_base and g.ok
                 and g.test_accuracy is not None and not g.synthetic), None)
    if base is not None and base.test_accuracy is not None:
        if accuracy < base.test_accuracy - ACCURACY_GAP:
            reasons.append(f"test accuracy {accuracy:.3f} is far below its base {base.environment}'s "
                           f"{base.test_accuracy:.3f} (gap over {ACCURACY_GAP:.2f})")
        return reasons
    peers = [g.test_accuracy for g in others if g.test_accuracy is not None and g.ok and not g.synthetic]
    if peers and accuracy < statistics.median(peers) - ACCURACY_GAP:
        reasons.append(f"test accuracy {accuracy:.3f} is far below the other backends' "
                       f"{statistics.median(peers):.3f} (median; gap over {ACCURACY_GAP:.2f})")
    return reasons


def training_loss(group: Group) -> tuple[float, float] | None:
    """The median over ok repeats of the first and of the last epoch's training loss (None: not recorded)."""
    pairs = [(r.metrics.per_epoch[0].loss, r.metrics.per_epoch[-1].loss) for r in group.ok
             if len(r.metrics.per_epoch) >= 2]
    pairs = [(a, b) for a, b in pairs if a is not None and b is not None]
    if not pairs:
        return None
    return statistics.median(a for a, _ in pairs), statistics.median(b for _, b in pairs)


def _loss_reasons(group: Group, others: list[Group]) -> list[str]:
    """`validity: loss`: the training loss must fall, and end near the other backends' (same model, data, sizes)."""
    loss = training_loss(group)
    if loss is None:
        return ["no training loss per epoch recorded: the loss gate cannot judge it"]
    first, last = loss
    reasons = []
    if not last < first:
        reasons.append(f"training loss did not fall ({first:.3g} in the first epoch, {last:.3g} in the last)")
    peers = [t[1] for t in (training_loss(g) for g in others if g.ok) if t is not None]
    if peers and last > statistics.median(peers) * (1 + LOSS_GAP):
        reasons.append(f"final training loss {last:.3g} is far above the other backends' "
                       f"{statistics.median(peers):.3g} (median; over {LOSS_GAP:.0%} above)")
    return reasons


def _nan_loss(group: Group) -> str | None:
    for r in group.ok:
        for e in r.metrics.per_epoch:
            for name in ("loss", "val_loss"):
                value = getattr(e, name)
                if value is not None and not math.isfinite(value):
                    return f"{name} went NaN (repeat {r.workload.repeat}, epoch {e.epoch})"
        loss = r.metrics.test.get("loss")
        if loss is not None and not math.isfinite(loss):
            return f"test loss is NaN (repeat {r.workload.repeat})"
    return None
