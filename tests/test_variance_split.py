"""benchmarks/variance_split.py: the split of a steady state's spread into what varies inside a process (epoch to
epoch) and what varies between processes, on cases whose answer is known."""

from __future__ import annotations

import importlib.util
import math
import statistics
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "variance_split.py"


def _split():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("variance_split", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.split


def test_steady_epochs_in_processes_that_differ_are_all_process_noise() -> None:
    within, between, process, k = _split()([[1.0, 1.0], [1.2, 1.2], [0.9, 0.9]], [1.0, 1.2, 0.9])
    assert within == 0 and k == 2 and process == pytest.approx(between)
    assert between == pytest.approx(statistics.stdev(math.log(v) for v in (1.0, 1.2, 0.9)))


def test_epochs_that_vary_in_alike_processes_leave_no_process_noise() -> None:
    within, between, process, _ = _split()([[0.9, 1.1], [1.1, 0.9], [0.95, 1.05]], [1.0, 1.0, 1.01])
    assert within > 0.05 and between < 0.01 and process == 0
