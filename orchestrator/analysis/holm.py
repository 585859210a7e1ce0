"""Family-wise error control over every decision a report makes: Holm's step-down adjustment.

A report decides many things at once (each backend against the reference, the fastest against the runner-up, the
article's claims): at alpha 0.05 each, one in five runs of seven identical backends would call some pair faster.
Holm (1979) keeps the chance of any false "faster"/"slower" in the whole report at most alpha, for any
dependence between the tests, and rejects at least what Bonferroni does. Applied here only, so `report`,
`compare` and `run`'s sequential repeats decide alike.
"""

from __future__ import annotations

from typing import Hashable, TypeVar

Key = TypeVar("Key", bound=Hashable)

METHOD = "Holm"


def holm(p_values: dict[Key, float]) -> dict[Key, float]:
    """Holm-adjusted p-values (reject where adjusted p <= alpha): the i-th smallest of m gets
    max over j <= i of min(1, (m - j + 1) p_(j))."""
    order = sorted(p_values, key=lambda k: p_values[k])
    m = len(order)
    adjusted: dict[Key, float] = {}
    running = 0.0
    for i, key in enumerate(order):
        running = max(running, min(1.0, (m - i) * p_values[key]))
        adjusted[key] = running
    return adjusted
