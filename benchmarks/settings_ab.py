"""Which setting makes a cell faster? One cell, run directly through the harness under several settings,
alternating (A B C, then C B A, ...) so drift on a shared machine hits every arm alike.

A variant is NAME:VAR=VALUE,-VAR,... (process environment variables set or unset on top of the cell's own,
which include the matrix `env:` defaults) and `threads=N` (the cell's thread count and the host's thread
variables). The first variant
is the reference: each other prints its median steady-state s/epoch and the ratio to the reference, and the
per-round ratios (their spread is the noise).

    .venv/bin/python benchmarks/settings_ab.py --env cntk --workload mnist_mlp --train-samples 10000 \\
        --variant "unset:-OMP_WAIT_POLICY" --variant "passive:OMP_WAIT_POLICY=PASSIVE" --rounds 3 \
        --data-dir ../shared/data
    .venv/bin/python benchmarks/settings_ab.py --env keras3-torch --workload cifar10_cnn --steps 60 \\
        --variant "inline:ORCHESTRATE_DATA_FEED=inline" --variant "prefetch:ORCHESTRATE_DATA_FEED=prefetch"
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psutil

from harness_overhead import PROFILE, directly, write_matrix  # the same one-profile matrix and direct run
from orchestrator.core import workload_files
from orchestrator.execution.spec import make_spec
from orchestrator.environments.layout import THREAD_VARS, cache_dir, cell_process_env
from orchestrator.config.expand import expand
from orchestrator.config.load import load_matrix
from orchestrator.runtimes.local import LocalRuntime
from orchestrator.analysis.stats import steady_state


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--matrix", default=str(Path(__file__).resolve().parent.parent / "matrix.yaml"))
    p.add_argument("--env", required=True)
    p.add_argument("--workload", default="mnist_mlp")
    p.add_argument("--variant", action="append", required=True, help="NAME:VAR=VALUE,... (first: reference)")
    p.add_argument("--epochs", type=int, default=3, help="epochs per run (the first is not counted)")
    p.add_argument("--train-samples", type=int, default=None)
    p.add_argument("--test-samples", type=int, default=1000)
    p.add_argument("--steps", type=int, default=None, help="steps_per_epoch (generator workloads)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--data-dir", default=os.environ.get("ORCHESTRATE_DATA_DIR"))
    p.add_argument("--cache-dir", default=None)
    return p.parse_args(argv)


def parse_variant(text: str) -> tuple[str, dict[str, str | None]]:
    name, _, rest = text.partition(":")
    settings = {}
    for item in (i.strip() for i in rest.split(",")):
        if item.startswith("-"):
            settings[item[1:]] = None  # -VAR: unset (e.g. a matrix default) for this variant
        elif item:
            key, _, value = item.partition("=")
            settings[key] = value
    return name, settings


def variant_env(base: dict[str, str], settings: dict[str, str | None]) -> dict[str, str]:
    env = dict(base)
    if "threads" in settings:
        env.update({var: str(settings["threads"]) for var in THREAD_VARS})
    for key, value in settings.items():
        if key == "threads":
            continue
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="settings-ab-"))
    try:
        return measure(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def measure(args: argparse.Namespace, work: Path) -> int:
    source = Path(args.matrix).resolve()
    overhead_args = argparse.Namespace(epochs=args.epochs, train_samples=args.train_samples,
                                       test_samples=args.test_samples)
    matrix = write_matrix(source, work, overhead_args)
    loaded = load_matrix(matrix)
    cache = cache_dir(args.cache_dir, load_matrix(source))
    prepared = LocalRuntime(loaded, cache, log=print).prepare(args.env)
    cell = expand(loaded, profile=PROFILE, environments=[args.env], workloads=[args.workload])[0]
    data_dir = str(Path(args.data_dir).resolve()) if args.data_dir else None
    variants = [parse_variant(v) for v in args.variant]
    base = cell_process_env(prepared.paths, prepared.environment, cell.threads, cell.seed)
    print(f"cell {cell.cell_id}: {cell.epochs} epochs, train samples {cell.train_samples or 'all'}, steps "
          f"{args.steps or 'upstream'}, {cell.threads} threads; {args.rounds} rounds, alternating")
    print(f"machine: {psutil.cpu_count()} cores, load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    steady: dict[str, list[float]] = {name: [] for name, _ in variants}
    for i in range(args.rounds):
        order = variants if i % 2 == 0 else list(reversed(variants))
        for name, settings in order:
            spec = make_spec(cell, prepared, loaded, data_dir, str(cache / "datasets"))
            if "threads" in settings:
                spec["threads"] = int(str(settings["threads"]))
            if args.steps:
                spec["steps_per_epoch"] = args.steps
            spec_path, events = work / f"{name}.spec.json", work / f"{name}.events.jsonl"
            spec_path.write_text(json.dumps(spec))
            command = [str(prepared.paths.python), str(workload_files.harness_path()),
                       "--spec", str(spec_path), "--events", str(events)]
            start = time.perf_counter()
            epochs = directly(command, variant_env(base, settings), events)
            value = steady_state(epochs)
            if value is None:
                sys.exit("need at least two epochs for a steady state: raise --epochs")
            steady[name].append(value)
            print(f"  round {i + 1} {name:12s} steady {value:.3f} s/epoch  epochs "
                  f"{', '.join(f'{s:.2f}' for s in epochs)}  (wall {time.perf_counter() - start:.0f} s, "
                  f"load {os.getloadavg()[0]:.2f})")
    reference = variants[0][0]
    ref = statistics.median(steady[reference])
    print(f"| variant | settings | median steady s/epoch | ratio to {reference} | per-round ratios |")
    print("|---|---|---|---|---|")
    for name, settings in variants:
        med = statistics.median(steady[name])
        rounds = ", ".join(f"{a / b:.2f}" for a, b in zip(steady[name], steady[reference]))
        shown = ", ".join(f"-{k}" if v is None else f"{k}={v}" for k, v in settings.items()) or "(matrix defaults)"
        print(f"| {name} | {shown} | {med:.3f} | {med / ref:.2f} | {rounds} |")
    print(f"load average after: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
