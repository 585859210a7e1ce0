"""`orchestrate compare RUN_A RUN_B`: per environment x workload x profile, run B's repeats against run A's:
the Hodges-Lehmann ratio (B / A) with its interval and the exact rank-sum test, Holm-adjusted over every compared
group; `slower` and `faster` only where the adjusted p is at most alpha and the change is beyond the tie
threshold (analysis/verdicts.py)."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from orchestrator.workflows.baseline import against_store
from orchestrator.commands._options import number
from orchestrator.workflows.record import add_store_option
from orchestrator.commands.report import add_verdict_options, verdict_settings
from orchestrator.workflows.report import load_run
from orchestrator.core.errors import ConfigError
from orchestrator.report.energy import comparison_table as energy_comparison
from orchestrator.report.terminal import comparison_table
from orchestrator.analysis.stats import NOISE_CV, group_results
from orchestrator.analysis.ranks import repeats_for
from orchestrator.analysis.verdicts.settings import ALPHA
from orchestrator.analysis.verdicts.comparison import compare_runs


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
        return against_store(args, verdict_settings(args, Path(args.run_a)), console)
    a, b = load_run(args.run_a), load_run(args.run_b)
    settings = verdict_settings(args, Path(args.run_b))
    comparisons, only_a, only_b = compare_runs(group_results(a.results, noise_cv=NOISE_CV),
                                               group_results(b.results, noise_cv=NOISE_CV), settings)
    if not comparisons:
        raise ConfigError(f"{args.run_a} and {args.run_b} share no environment x workload x profile; "
                          "nothing to compare")
    name_a, name_b = a.results[0].run_id, b.results[0].run_id
    if name_a == name_b:  # e.g. the same run id on two machines: tell them apart by folder
        name_a, name_b = str(args.run_a), str(args.run_b)
    console.print(comparison_table(comparisons, name_a, name_b))
    if (energy := energy_comparison(a.results, b.results, name_a, name_b)) is not None:
        console.print(energy)
    for key in only_a:
        console.print(f"[dim]only in {name_a}: {' / '.join(key)}[/dim]")
    for key in only_b:
        console.print(f"[dim]only in {name_b}: {' / '.join(key)}[/dim]")
    counts = {v: sum(1 for c in comparisons if c.test.verdict == v)
              for v in ("slower", "faster", "tie", "no clear difference", "one repeat: no verdict")}
    console.print(f"{len(comparisons)} compared: " + ", ".join(f"{n} {v}" for v, n in counts.items() if n)
                  + f" (repeats' steady states; exact rank-sum test, Holm over the {len(comparisons)} at "
                  f"p <= {settings.alpha:g}, ties within {settings.tie_threshold:.0%} on the log scale)",
                  highlight=False)
    return 1 if args.fail_on_slower and counts["slower"] else 0
