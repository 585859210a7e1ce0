"""The cost of Keras: each Keras 3 backend's steady-state time over its framework written natively.

Pairs, per workload x profile, every native environment (results with keras_version "native", from
workloads/native/) with every Keras 3 environment of the same backend (keras3-torch / native-torch, ...), and
judges each pair with `verdicts.pair_test` (Hodges-Lehmann ratio and interval on log times, exact rank-sum p,
the run's sequential looks): ratio = Keras / native, above 1 when Keras is slower. The section's pairs are one
family: their p-values are adjusted together by Holm (`verdicts.adjust_family`), as the report's verdicts are. Both sides pass `verdicts.check_validity`
against each other first, so a native version that learns less (accuracy far below Keras', or at chance) is
not called fast.
"""

from __future__ import annotations

from dataclasses import dataclass

from orchestrator.analysis.stats import Group
from orchestrator.analysis.verdicts.pairs import PairTest, adjust_family, pair_test
from orchestrator.analysis.verdicts.settings import Settings
from orchestrator.analysis.verdicts.validity import Validity, check_validity

NATIVE = "native"  # the keras_version native results carry (workloads/native/runner.py)

VERDICTS = {"slower": "Keras slower", "faster": "Keras faster", "tie": "no clear difference (a tie)",
            "no clear difference": "no clear difference"}


@dataclass
class KerasCost:
    workload: str
    profile: str
    backend: str
    keras: Group
    native: Group
    test: PairTest  # A = native, B = Keras: ratio = Keras / native
    keras_validity: Validity
    native_validity: Validity

    @property
    def comparable(self) -> bool:
        return self.keras_validity.valid and self.native_validity.valid

    @property
    def verdict(self) -> str:
        if not self.comparable:
            reasons = [f"{g.environment}: {v.describe()}" for g, v in ((self.keras, self.keras_validity),
                                                                      (self.native, self.native_validity))
                       if not v.valid]
            return "not comparable (" + "; ".join(reasons) + ")"
        return VERDICTS.get(self.test.verdict, self.test.verdict)


def is_native(group: Group) -> bool:
    return group.results[0].environment.keras_version == NATIVE


def is_keras3(group: Group) -> bool:
    return group.results[0].environment.keras_version.split(".")[0] == "3"


def keras_costs(groups: list[Group], settings: Settings = Settings()) -> list[KerasCost]:
    """Every (Keras 3, native) pair of the same backend on the same workload and profile, in first-seen order."""
    rows = []
    for native in (g for g in groups if is_native(g)):
        for keras in groups:
            if not is_keras3(keras) or keras.backend != native.backend or \
                    (keras.workload, keras.profile) != (native.workload, native.profile):
                continue
            test = pair_test(native.steady_samples, keras.steady_samples, settings.tie_threshold, settings.alpha,
                             settings.plan)
            rows.append(KerasCost(native.workload, native.profile, native.backend, keras, native, test,
                                  check_validity(keras, [native], settings.gate(keras.profile)),
                                  check_validity(native, [keras], settings.gate(native.profile))))
    adjusted = adjust_family({(i,): row.test for i, row in enumerate(rows) if row.comparable}, settings)  # Holm
    for (i,), test in adjusted.items():
        rows[i].test = test
    return rows
