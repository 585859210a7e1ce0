"""benchmarks/warm_start.py's adoption rule on the figures of its calibrations (docs/measuring.md, "Warm start"):
children inside the fresh interval, not much less spread, and a ratio child / fresh that neither differs from 1
nor is estimated more than 5% from it."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def _rule():  # type: ignore[no-untyped-def]
    sys.path.insert(0, str(BENCHMARKS))  # warm_start.py imports harness_overhead.py beside it
    try:
        spec = importlib.util.spec_from_file_location("warm_start_rule", BENCHMARKS / "warm_start.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["warm_start_rule"] = module  # its dataclasses look their module up
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(BENCHMARKS))


def test_a_child_inside_the_fresh_interval_with_its_spread_and_no_bias_is_adopted() -> None:
    rule = _rule()
    assert rule.adoption_problems(0.330, 0.294, 0.371, 0.090, 0.048) == []  # tensorflow1, 2026-12-07
    assert rule.ratio_problems(0.982, 0.895, 1.09) == []


def test_a_biased_or_too_quiet_child_is_not() -> None:
    rule = _rule()
    assert rule.adoption_problems(0.508, 0.480, 0.624, 0.074, 0.021)  # theano: children spread too little
    assert rule.adoption_problems(0.662, 0.555, 0.712, 0.079, 0.079) == []  # mxnet-keras1 inside the interval...
    slower = rule.ratio_problems(1.12, 1.03, 1.23)  # ...but 12% slower, the interval above 1
    assert any("differ" in p for p in slower) and any("more than 5%" in p for p in slower)
    assert rule.ratio_problems(1.17, 0.991, 1.33) == ["ratio 1.17 more than 5% from 1"]  # keras3-tensorflow
