"""Scaling efficiency: a matrix of short cells on k slots, wall time against the ideal (total cell time / k).

    .venv/bin/python benchmarks/scaling.py                      # 8 cells on a private 2-slot Ray cluster
    .venv/bin/python benchmarks/scaling.py --slots 4 --cells 16 --address HEAD:6379
    .venv/bin/python benchmarks/scaling.py --runtime local      # the local scheduler's slots instead of Ray

The cells are the `sleepy` test workload (tests/workloads/) in the keras3-jax environment: a real harness
process (Keras import, model build, timed epochs that sleep). "Cell time" is each harness process's own wall
time, measured in the same run, so CPU contention between cells counts in both the total and the wall time;
what the efficiency shows is the scheduling overhead (task dispatch, environment checks, result transport)
and idle slots. Target: efficiency >= 0.9. On a shared machine the figure is noisy: run it more than once.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from orchestrator.environments.layout import cache_dir  # noqa: E402
from orchestrator.config.expand import expand
from orchestrator.config.load import load_matrix
from orchestrator.rundir.layout import RunDir
from orchestrator.runtimes import RUNTIMES, create_runtime  # noqa: E402
from orchestrator.runtimes.base import RunContext, Runtime  # noqa: E402
from orchestrator.scheduling.scheduler import Scheduler

TARGET = 0.9


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--slots", type=int, default=2, help="k: cells at once (default 2)")
    p.add_argument("--cells", type=int, default=8, help="number of cells (default 8)")
    p.add_argument("--epochs", type=int, default=4, help="epochs per cell, 0.5 s each (default 4)")
    p.add_argument("--runtime", choices=list(RUNTIMES), default="ray")
    p.add_argument("--address", default=None, help="a Ray cluster to join (default: a private one on 127.0.0.1)")
    p.add_argument("--matrix", default=str(REPO / "tests" / "workloads" / "matrix.yaml"))
    p.add_argument("--cache-dir", default=None, help="environment cache (default: $ORCHESTRATE_CACHE_DIR or .orchestrate)")
    p.add_argument("--results-dir", default=str(REPO / "results"))
    return p.parse_args()


def make_runtime(kind: str, args: argparse.Namespace) -> Runtime:
    loaded = load_matrix(args.matrix)
    cache = cache_dir(args.cache_dir or os.environ.get("ORCHESTRATE_CACHE_DIR") or REPO / ".orchestrate", loaded)
    log = lambda message: print(f"  {message}")  # noqa: E731
    options = {"address": args.address} if kind == "ray" else {}
    return create_runtime(kind, loaded, cache, log, **options)


def main() -> int:
    args = parse()
    runtime = make_runtime(args.runtime, args)
    loaded = runtime.loaded
    run_id = f"scaling-{args.runtime}-{dt.datetime.now().strftime('%Y%m%d-%H%M%S')}"
    run_dir = RunDir(Path(args.results_dir), run_id)
    run_dir.ensure_writable()
    try:
        slots = runtime.slots(args.slots)
        k = len(slots)
        threads = min((len(s.cpus) for s in slots), default=0) or None
        template = expand(loaded, profile="test", workloads=["sleepy"], threads=threads)[0]
        cells = [template.model_copy(update={"repeat": i, "epochs": args.epochs, "seed": i}) for i in range(args.cells)]
        ctx = RunContext(run_dir=run_dir, data_dir=None)
        print(f"warm-up: one cell (the environment is checked or built, the matrix unpacked on the node)")
        Scheduler(runtime, RunContext(run_dir=RunDir(run_dir.path, "warm-up"), data_dir=None), slots=slots[:1],
                  retries=0).run(cells[:1])
        print(f"measuring: {len(cells)} cells of {args.epochs} x 0.5 s epochs on {k} slot(s), {args.runtime} runtime")
        start = time.perf_counter()
        results = Scheduler(runtime, ctx, slots=slots, retries=0).run(cells)
        wall = time.perf_counter() - start
    finally:
        runtime.close()
    failed = [r.cell_id for r in results if r.status != "ok"]
    if failed:
        print(f"error: {len(failed)} cell(s) failed ({', '.join(failed)}); see {run_dir.path}")
        return 1
    total = sum(r.timings.process_s or 0.0 for r in results)
    ideal = total / k
    efficiency = ideal / wall
    print(f"cells {len(results)}, slots k={k}, total cell time {total:.1f} s, ideal {ideal:.1f} s, wall {wall:.1f} s")
    print(f"efficiency (ideal / wall) = {efficiency:.3f}  (target >= {TARGET}: {'met' if efficiency >= TARGET else 'NOT met'})")
    print(f"mean cell {total / len(results):.1f} s; results in {run_dir.path}. Shared, noisy machine: repeat before trusting.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
