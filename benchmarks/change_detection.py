"""How well does change detection (orchestrator/analysis/changes.py) find a known step, and how often does it cry
wolf on noise alone? Synthetic series, seeded, measured side by side:

- step: 20 runs of 3 repeats; from a run drawn at random among 5..15 every timing is 15% slower. Found = a step
  flagged at exactly that run, slower, its interval excluding 1.
- newest: the same, with the 15% step at the newest run (the CI gate's case: conbench's test).
- noise: 20 runs, no step. A false alarm = any step flagged anywhere in the series.

Noise model (multiplicative, normal): each run's level moves by --run-cv (run-to-run drift: a new process, other
load) and each repeat by --repeat-cv around it. Defaults 2% and 3%, about what interleaved repeats show on a quiet
machine here; pass larger values to see a loaded machine.

    .venv/bin/python benchmarks/change_detection.py --seeds 100
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from orchestrator.analysis.changes import DEFAULT_ALPHA, DEFAULT_TIE, PENALTY, Point, detect


def series(rng: np.random.Generator, runs: int, repeats: int, step_at: int | None, step: float,
           run_cv: float, repeat_cv: float) -> list[Point]:
    points = []
    for i in range(runs):
        level = 10.0 * (1 + step if step_at is not None and i >= step_at else 1) * (1 + rng.normal(0, run_cv))
        samples = level * (1 + rng.normal(0, repeat_cv, repeats))
        version = "2.13.0" if step_at is not None and i >= step_at else "2.12.0"
        points.append(Point(f"r{i:02d}", None, [float(s) for s in samples], {"torch": version}))
    return points


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seeds", type=int, default=100)
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--step", type=float, default=0.15)
    p.add_argument("--run-cv", type=float, default=0.02)
    p.add_argument("--repeat-cv", type=float, default=0.03)
    p.add_argument("--penalty", type=float, default=PENALTY)
    args = p.parse_args()
    kw = dict(runs=args.runs, repeats=args.repeats, step=args.step, run_cv=args.run_cv, repeat_cv=args.repeat_cv)
    found = newest = alarms = 0
    ratios: list[float] = []
    began = time.perf_counter()
    for seed in range(args.seeds):
        rng = np.random.default_rng(seed)
        at = int(rng.integers(5, 16))
        steps = detect(series(rng, step_at=at, **kw), penalty=args.penalty)
        hit = [s for s in steps if s.index == at and s.direction == "slower"]
        found += bool(hit)
        ratios += [hit[0].test.ratio] if hit else []
        steps = detect(series(rng, step_at=args.runs - 1, **kw), penalty=args.penalty)
        newest += any(s.index == args.runs - 1 and s.direction == "slower" for s in steps)
        alarms += bool(detect(series(rng, step_at=None, **kw), penalty=args.penalty))
    n = args.seeds
    print(f"change detection: {n} seeds, {args.runs} runs x {args.repeats} repeats, run-to-run noise "
          f"{args.run_cv:.0%}, repeat noise {args.repeat_cv:.0%}; penalty {args.penalty:g}, alpha {DEFAULT_ALPHA:g}, "
          f"tie {DEFAULT_TIE:.0%}")
    print(f"  {args.step:.0%} step inside the history found at the right run: {found}/{n} "
          f"(median ratio {np.median(ratios) if ratios else float('nan'):.3f})")
    print(f"  {args.step:.0%} step at the newest run found:                   {newest}/{n}")
    print(f"  noise only, series with a false alarm:              {alarms}/{n} ({alarms / n:.0%})")
    print(f"  ({time.perf_counter() - began:.1f} s)")


if __name__ == "__main__":
    main()
