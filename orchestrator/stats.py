"""Statistics over measured times: first epoch apart, steady state as the median of the rest."""

from __future__ import annotations

import statistics


def steady_state(epochs_s: list[float]) -> float | None:
    """Median seconds of the epochs after the first (which carries compile and warm-up)."""
    rest = epochs_s[1:]
    if rest:
        return statistics.median(rest)
    return None


def samples_per_second(samples: int | None, seconds: float | None) -> float | None:
    if not samples or not seconds:
        return None
    return samples / seconds
