"""The default comparison run two ways on the same machine, alternating: an earlier revision's path against this
checkout's. Each pair runs `orchestrate run matrix.yaml` (the default selection: seven backends, mnist_mlp, the
`compare` profile) once from each side, the order alternating pair by pair so drift hits both alike; both use the
same environments (--cache-dir) and data (--data-dir).

Per run it prints:
- cells and cell time: the sum of every cell's process wall time (what the run's start-up and measurement cost),
  plus each warm parent's import once (cells forked from it record it: `timings.warm_start`);
- the steady share: the steady epochs (those after the first: what the verdict measures) over the cell time;
- the decisions: each environment against the reference, verdict, ratio and interval width (high / low);
then per pair the cell-time ratio (this checkout over the earlier one) and whether every direction decided on both
sides agrees (faster / slower; a side's undecided pair is listed, not counted as a disagreement).

The earlier side is a git worktree of `--base` (default BASE: the last commit before the Welch first look, the
equivalence check on repeat 0 only, the skipped unjudged inference phase and the warm start), run with its own
orchestrator package (PYTHONPATH) by this checkout's interpreter.

    .venv/bin/python benchmarks/default_path.py --data-dir ../shared/data [--cache-dir .orchestrate] [--pairs 1]

`--select` runs another selection the same way on both sides (each side with its own matrix.yaml, so its own
profile: modern-cpu trained BERT 4 epochs before and 8 now).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASE = "eb246b8"  # before the Welch first look, the checks skipped on later repeats and the warm start
CLI = "import sys; from orchestrator.cli import main; sys.exit(main(sys.argv[1:]))"  # the side's own package

DECISIONS = """
import json, sys
from pathlib import Path
from orchestrator.analysis.stats import group_results
from orchestrator.analysis.verdicts import assemble
from orchestrator.workflows.report import load_run, settings_for
run = Path(sys.argv[1])
report = assemble.build(group_results(load_run(run).results), settings_for(run))
rows = []
for v in report.workloads:
    for r in v.rows:
        t = r.vs_reference
        if t is not None:
            rows.append({"phase": getattr(v, "phase", "train"), "reference": v.reference, "env": r.environment,
                         "verdict": t.verdict, "ratio": t.ratio, "low": t.low, "high": t.high, "n": t.n_b})
print(json.dumps(rows))
"""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--base", default=BASE, help=f"the earlier revision (default {BASE})")
    p.add_argument("--pairs", type=int, default=1, help="runs of each side (alternating order)")
    p.add_argument("--data-dir", default=os.environ.get("ORCHESTRATE_DATA_DIR"), help="offline datasets")
    p.add_argument("--cache-dir", default=str(ROOT / ".orchestrate"), help="where the environments are (shared)")
    p.add_argument("--work-dir", default=None, help="where the worktree and runs go (default: a temporary folder)")
    p.add_argument("--select", default="", help="another selection for both sides' `orchestrate run`, e.g. "
                   "'--env keras3-jax --workload bert_classifier --profile modern-cpu' (default: the matrix's)")
    return p.parse_args(argv)


def worktree(base: str, work: Path) -> Path:
    path = work / f"base-{base}"
    if not path.exists():
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-f", str(path), base], check=True,
                       capture_output=True)
    return path


def run_side(code: Path, work: Path, run_id: str, args: argparse.Namespace) -> tuple[Path, float]:
    """One default run from `code`'s orchestrator; (its run folder, wall seconds)."""
    env = {**os.environ, "PYTHONPATH": str(code)}
    command = [sys.executable, "-c", CLI, "run", str(code / "matrix.yaml"), "--cache-dir", args.cache_dir,
               "--results-dir", str(work / "results"), "--run-id", run_id, "--no-report", *shlex.split(args.select)]
    if args.data_dir:
        command += ["--data-dir", args.data_dir]
    started = time.monotonic()
    done = subprocess.run(command, cwd=code, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{run_id}: `orchestrate run` exited {done.returncode}:\n{done.stdout[-3000:]}"
                         f"{done.stderr[-3000:]}")
    return work / "results" / run_id, time.monotonic() - started


def cell_figures(run: Path) -> dict[str, float]:
    """Cells, cell time (sum of process wall times, plus each warm parent's import once), steady seconds (epochs
    after the first) and repeats per env."""
    cells = [json.loads(p.read_text()) for p in sorted((run / "cells").glob("*.json"))]
    parents = {w["parent_pid"]: w["parent_import_s"] for c in cells
               if (w := (c.get("timings") or {}).get("warm_start"))}
    total = sum((c.get("timings") or {}).get("process_s") or 0.0 for c in cells) + sum(parents.values())
    steady = sum(sum(((c.get("timings") or {}).get("epochs_s") or [])[1:]) for c in cells if c["status"] == "ok")
    per_env: dict[str, int] = {}
    for c in cells:
        per_env[c["environment"]["name"]] = per_env.get(c["environment"]["name"], 0) + 1
    return {"cells": len(cells), "cell_s": total, "steady_s": steady, "per_env": per_env,  # type: ignore[dict-item]
            "parents": len(parents), "parents_s": sum(parents.values())}


def decisions(code: Path, run: Path) -> list[dict]:
    done = subprocess.run([sys.executable, "-c", DECISIONS, str(run)], env={**os.environ, "PYTHONPATH": str(code)},
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def show(label: str, run: Path, wall: float, figures: dict, rows: list[dict]) -> None:
    share = figures["steady_s"] / figures["cell_s"] if figures["cell_s"] else 0.0
    print(f"{label}: {figures['cells']} cells, cell time {figures['cell_s']:.0f} s, steady {figures['steady_s']:.0f} s "
          f"({share:.0%}), run wall {wall:.0f} s; warm parents {figures['parents']} (imports {figures['parents_s']:.0f} "
          f"s, counted once in the cell time); repeats {figures['per_env']}  [{run}]")
    for r in rows:
        width = r["high"] / r["low"] if r["low"] and r["high"] else float("nan")
        ratio = f"{r['ratio']:.3f}" if r["ratio"] else "-"
        print(f"   {r['phase']:<8} {r['env']:<18} vs {r['reference']:<12} {r['verdict']:<20} {ratio:>7} "
              f"width {width:.3f}  n={r['n']}")


def agreement(before: list[dict], after: list[dict]) -> tuple[int, list[str]]:
    """(directions decided on both sides that agree, the disagreements)."""
    old = {(r["phase"], r["env"]): r["verdict"] for r in before}
    agree, differ = 0, []
    for r in after:
        was = old.get((r["phase"], r["env"]))
        if r["verdict"] in ("faster", "slower") and was in ("faster", "slower"):
            if was == r["verdict"]:
                agree += 1
            else:
                differ.append(f"{r['env']}: {was} before, {r['verdict']} now")
    return agree, differ


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    work = Path(args.work_dir or tempfile.mkdtemp(prefix="default-path-"))
    base = worktree(args.base, work)
    ratios, shares = [], []
    for pair in range(args.pairs):
        sides = [("before", base), ("now", ROOT)]
        if pair % 2:
            sides.reverse()
        seen = {}
        for label, code in sides:
            run, wall = run_side(code, work, f"{label}-{pair}", args)
            figures, rows = cell_figures(run), decisions(code, run)
            show(f"pair {pair + 1} {label} ({args.base if label == 'before' else 'this checkout'})", run, wall,
                 figures, rows)
            seen[label] = (figures, rows)
        agree, differ = agreement(seen["before"][1], seen["now"][1])
        ratio = seen["now"][0]["cell_s"] / seen["before"][0]["cell_s"]
        ratios.append(ratio)
        shares.append(seen["now"][0]["steady_s"] / seen["now"][0]["cell_s"])
        print(f"pair {pair + 1}: cell time now / before = {ratio:.2f}; directions decided on both sides: {agree} "
              f"agree, {len(differ)} differ{': ' + '; '.join(differ) if differ else ''}\n")
    print(f"median cell-time ratio now / before over {args.pairs} pair(s): {statistics.median(ratios):.2f} "
          f"(target <= 0.33); steady share now: {statistics.median(shares):.0%} (target >= 50%)")


if __name__ == "__main__":
    main()
