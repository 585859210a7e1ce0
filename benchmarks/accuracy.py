"""Acceptance check: test accuracy of the workloads at their article sizes, against reference.md's targets.

    .venv/bin/python benchmarks/accuracy.py --data-dir ../shared/data                  # mlp, cnn, babi on keras3-jax
    .venv/bin/python benchmarks/accuracy.py --workload babi_rnn --env keras3-tensorflow
    .venv/bin/python benchmarks/accuracy.py --from results/acc-20250101                # judge an existing run

Runs the matrix's `accuracy` profile (the article profile, with babi_rnn at 20 epochs) through `orchestrate run`,
one fresh process per cell, then prints each cell's test accuracy beside its target with the versions, threads and
data it was measured with. Exit status 0 when every judged cell meets its target. mnist_cnn takes about 40 minutes
on a 2-core CPU (JAX); the others a few minutes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from orchestrator.cli import main as orchestrate  # noqa: E402
from orchestrator.results.schema import CellResult
from orchestrator.results.io import read_cell

# workload: (epochs, judge, target text). Targets from shared/docs/reference.md.
TARGETS = {
    "mnist_mlp": (20, lambda acc: acc >= 0.98, ">= 0.98 (upstream 0.9840)"),
    "mnist_cnn": (12, lambda acc: acc >= 0.99, ">= 0.99 (upstream 0.9925)"),
    "babi_rnn": (20, lambda acc: abs(acc - 0.52) <= 0.05, "0.52 +/- 0.05 (Keras 2.3.1 on qa1 en-10k)"),
    "mnist_hrnn": (5, None, "none (upstream val 0.9864)"),
    "cifar10_cnn": (50, None, "none (held-out part of a 4k subset here; upstream: test log-loss 0.55)"),
}
DEFAULT_WORKLOADS = ["mnist_mlp", "mnist_cnn", "babi_rnn"]


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--env", default="keras3-jax")
    p.add_argument("--workload", action="append", choices=sorted(TARGETS),
                   help="repeatable; default: " + " ".join(DEFAULT_WORKLOADS))
    p.add_argument("--matrix", default=str(REPO / "matrix.yaml"))
    p.add_argument("--data-dir", default=None, help="offline datasets (layout of shared/data)")
    p.add_argument("--cache-dir", default=None)
    p.add_argument("--results-dir", default=str(REPO / "results"))
    p.add_argument("--run-id", default=None)
    p.add_argument("--from", dest="existing", default=None, help="judge the cells of an existing run directory")
    return p.parse_args(argv)


def judge(result: CellResult) -> tuple[str, str]:
    """(verdict, detail) for one cell."""
    epochs, check, _ = TARGETS[result.workload.name]
    if result.status != "ok":
        return "FAIL", f"cell {result.status}: {result.reason}"
    acc = result.metrics.test.get("accuracy")
    if acc is None:
        return "FAIL", "no test accuracy recorded"
    if result.workload.epochs != epochs or result.data.subset:
        return "n/a", f"ran {result.workload.epochs} epochs on {result.data.subset or 'the full data'}; " \
                      f"the target is for {epochs} on the full data"
    if check is None:
        return "info", ""
    return ("PASS" if check(acc) else "FAIL"), ""


def report(results: list[CellResult]) -> bool:
    ok = True
    print(f"{'workload':<12} {'env':<18} {'epochs':>6} {'test acc':>9} {'target':<44} verdict")
    for r in results:
        verdict, detail = judge(r)
        acc = r.metrics.test.get("accuracy")
        print(f"{r.workload.name:<12} {r.environment.name:<18} {r.workload.epochs:>6} "
              f"{acc if acc is None else format(acc, '.4f'):>9} {TARGETS[r.workload.name][2]:<44} {verdict} {detail}")
        ok &= verdict in ("PASS", "info")
    print()
    for r in results:
        env = r.environment
        print(f"{r.cell_id}: keras {env.keras_version}, {env.backend} {env.framework_version}, "
              f"python {env.python_version}, threads {r.threads.requested}, device {r.host.device} ({r.host.cpu}); "
              f"data {r.data.source} {r.data.path} {r.data.samples} {r.data.subset or ''}; "
              f"steady {r.timings.steady_state_s and round(r.timings.steady_state_s, 1)} s/epoch, "
              f"fit {r.timings.fit_s and round(r.timings.fit_s)} s")
    return ok


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    workloads = args.workload or DEFAULT_WORKLOADS
    if args.existing:
        run_dir = Path(args.existing)
    else:
        run_id = args.run_id or "accuracy-" + dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        cmd = ["run", args.matrix, "--profile", "accuracy", "--env", args.env, "--results-dir", args.results_dir,
               "--run-id", run_id]
        for w in workloads:
            cmd += ["--workload", w]
        if args.data_dir:
            cmd += ["--data-dir", args.data_dir]
        if args.cache_dir:
            cmd += ["--cache-dir", args.cache_dir]
        orchestrate(cmd)
        run_dir = Path(args.results_dir) / run_id
    cells = sorted((run_dir / "cells").glob("*.json"))
    results = [read_cell(c) for c in cells]
    if args.existing is None:
        results = [r for r in results if r.workload.name in workloads]
    if not results:
        print(f"no cell results in {run_dir / 'cells'}", file=sys.stderr)
        return 1
    print(f"run: {run_dir}")
    return 0 if report(results) else 1


if __name__ == "__main__":
    sys.exit(main())
