"""benchmarks/calibration.py at reduced draws (the CI form of the calibration whose full run docs/statistics.md
shows): the verdicts' coverage, family-wise false faster/slower, false ties at the band's edge and power, through
the project's own functions, each against its target with a margin for the few draws.

Margin: 3 binomial standard errors at the draws used (at 40 draws: 0.10 at a 5% rate, 0.19 at an 80% one; the
coverage, the minimum over 34 cells, 4 standard errors: 0.14). At the seed used the figures are deterministic; the
margin says how far a figure at these draws may sit from the full run's without the method being wrong. The
missing repeat is exact: its p must be what the spending gives, not 1."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DRAWS = 40


def _calibration():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("calibration", ROOT / "benchmarks" / "calibration.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["calibration"] = module
    spec.loader.exec_module(module)
    return module


def _margin(rate: float, draws: int, errors: float = 3.0) -> float:
    return errors * math.sqrt(rate * (1 - rate) / draws)


def test_the_calibration_meets_its_targets_at_reduced_draws(capsys: pytest.CaptureFixture[str]) -> None:
    calibration = _calibration()
    figures = calibration.run(DRAWS, seed=2026, full=False)
    out = capsys.readouterr().out
    assert "Targets:" in out and "false tie at the edge" in out
    assert figures["coverage minus label, worst"] >= -_margin(0.05, DRAWS, 4.0)
    assert figures["false faster/slower, worst"] <= 0.05 + _margin(0.05, DRAWS)
    assert figures["false tie at the edge"] <= 0.05 + _margin(0.05, DRAWS)
    assert figures["power, CV 5%"] >= 0.80 - _margin(0.80, DRAWS)
    # with 10% outliers: slow repeats set aside and replaced (0.73 before, with the screen alone)
    assert figures["power, CV 5%, 10% outliers"] >= 0.80 - _margin(0.80, DRAWS)
    # one failed repeat (5 against 6, perfectly separated) keeps its looks: decided (Welch's p spent), not p = 1
    assert figures["missing repeat p"] < 0.05 / 8
