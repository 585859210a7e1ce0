"""`orchestrate compare RUN_A RUN_B` (workflows/compare.py), or `orchestrate compare RUN --baseline store`, the CI
gate against the store (workflows/baseline.py)."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from orchestrator.analysis.ranks import repeats_for
from orchestrator.analysis.verdicts.settings import ALPHA
from orchestrator.commands._options import add_store_option, add_verdict_options, number, verdict_settings
from orchestrator.core.errors import ConfigError
from orchestrator.workflows.baseline import against_store
from orchestrator.workflows.compare import compare_two_runs


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("compare", help="compare two runs cell by cell (ratio with confidence interval)")
    p.add_argument("run_a", metavar="RUN_A", help="the baseline run folder (with --baseline store: the run compared)")
    p.add_argument("run_b", metavar="RUN_B", nargs="?", help="the run compared with it")
    p.add_argument("--baseline", choices=["store"], default=None,
                   help="compare RUN_A with the latest comparable runs in the store (same host, environment, "
                        "workload, profile); exit 1 on a significant slowdown (a CI gate)")
    p.add_argument("--baseline-runs", type=number("--baseline-runs", int, 1, 1000), default=3, metavar="N",
                   help="with --baseline store: how many of the latest comparable runs (default 3)")
    add_store_option(p, results_default=False)  # default: store.sqlite beside RUN_A
    p.add_argument("--fail-on-slower", action="store_true",
                   help="exit with status 1 when any cell is significantly slower in RUN_B (needs at least "
                        f"{repeats_for(ALPHA)} repeats on each side to reach p <= {ALPHA:g} before Holm's adjustment "
                        "over the compared cells, more when many cells are compared; 3 reach 0.1 at best, 2 0.33)")
    add_verdict_options(p, reference=False)
    p.set_defaults(func=run)


def run(args: argparse.Namespace, console: Console) -> int:
    if args.baseline == "store" or args.run_b is None:
        if args.run_b is not None or args.baseline is None:
            raise ConfigError("compare takes RUN_A RUN_B, or one RUN with --baseline store")
        return against_store(args.run_a, args.store, args.baseline_runs, verdict_settings(args, Path(args.run_a)),
                             console)
    return compare_two_runs(args.run_a, args.run_b, verdict_settings(args, Path(args.run_b)), console,
                            args.fail_on_slower)
