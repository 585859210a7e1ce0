"""Would longer samples (more timed steps per process) sharpen the verdicts? Only as far as the noise is inside a
process. This reads a run directory and splits each environment's noise in two, on log times:

- within a process: how the epochs after the first vary around their process's mean (the pooled standard
  deviation of one epoch, `within`);
- between processes: how the repeats' steady states vary (`between`), which is what every interval and test reads.

A repeat's steady state is the median of its k timed epochs (k = epochs - 1), so between^2 ~ process^2 + within^2 / k,
and `process` (what differs from one process to the next: placement, memory layout, the machine's state) is what
no window inside a process can average away. Printed per environment: the repeats, k, within, between, process,
and `floor / now`: the spread of a steady state timed over endless epochs against today's (process / between).
Near 1, a longer window buys nothing; near 0, it would.

    .venv/bin/python benchmarks/variance_split.py RUN_DIR [RUN_DIR ...]
"""

from __future__ import annotations

import argparse
import math
import statistics
from collections import defaultdict
from pathlib import Path

from orchestrator.results.io import load_cells


def split(epochs_by_repeat: list[list[float]], steady: list[float]) -> tuple[float, float, float, int]:
    """(within, between, process, k) on log times: `epochs_by_repeat` the timed epochs of each repeat after the
    first, `steady` each repeat's steady state."""
    k = min(len(e) for e in epochs_by_repeat)
    deviations = [math.log(x) - statistics.fmean(math.log(y) for y in e) for e in epochs_by_repeat for x in e]
    freedom = sum(len(e) - 1 for e in epochs_by_repeat)
    within = math.sqrt(math.fsum(d * d for d in deviations) / freedom) if freedom else math.nan
    between = statistics.stdev(math.log(s) for s in steady)
    process = math.sqrt(max(0.0, between**2 - within**2 / k))
    return within, between, process, k


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path, help="run directories (results/<run-id>)")
    args = parser.parse_args()
    print(f"{'run':<14} {'environment':<20} {'workload':<12} {'n':>3} {'k':>2} {'within':>7} {'between':>8} "
          f"{'process':>8} {'floor/now':>9}")
    ratios: dict[str, list[float]] = defaultdict(list)
    for run in args.runs:
        groups: dict[tuple[str, str], list] = defaultdict(list)
        for r in load_cells(run).results:
            if r.status == "ok" and r.timings.steady_state_s and len(r.timings.epochs_s or []) >= 3:
                groups[(r.environment.name, r.workload.name)].append(r)
        for (env, workload), results in groups.items():
            if len(results) < 3:
                continue
            within, between, process, k = split([r.timings.epochs_s[1:] for r in results],
                                                [r.timings.steady_state_s for r in results])
            ratios[workload].append(process / between if between else math.nan)
            print(f"{run.name[:14]:<14} {env:<20} {workload:<12} {len(results):>3} {k:>2} {within:>7.3f} "
                  f"{between:>8.3f} {process:>8.3f} {ratios[workload][-1]:>9.2f}")
    print("\nfloor / now (the spread left if each process timed endless epochs, against today's), median:")
    for workload, values in ratios.items():
        print(f"   {workload}: {statistics.median(values):.2f} over {len(values)} environment x run(s)")


if __name__ == "__main__":
    main()
