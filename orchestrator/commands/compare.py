"""`orchestrate compare RUN_A RUN_B`: per environment x workload x profile, the ratio of steady-state
s/epoch (B / A) with an interval; changes whose interval excludes 1 are flagged."""

from __future__ import annotations

import argparse

from rich.console import Console

from orchestrator.commands.report import load_run
from orchestrator.errors import ConfigError
from orchestrator.report.energy import comparison_table as energy_comparison
from orchestrator.report.terminal import comparison_table
from orchestrator.stats import NOISE_CV, compare_groups, group_results


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("compare", help="compare two runs cell by cell (ratio with confidence interval)")
    p.add_argument("run_a", metavar="RUN_A", help="the baseline run folder")
    p.add_argument("run_b", metavar="RUN_B", help="the run compared with it")
    p.add_argument("--fail-on-slower", action="store_true",
                   help="exit with status 1 when any cell is significantly slower in RUN_B")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, console: Console) -> int:
    a, b = load_run(args.run_a), load_run(args.run_b)
    comparisons, only_a, only_b = compare_groups(group_results(a.results, noise_cv=NOISE_CV),
                                                 group_results(b.results, noise_cv=NOISE_CV))
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
    slower = [c for c in comparisons if c.verdict == "slower"]
    faster = [c for c in comparisons if c.verdict == "faster"]
    console.print(f"{len(comparisons)} compared: {len(slower)} significantly slower, {len(faster)} significantly "
                  f"faster, {len(comparisons) - len(slower) - len(faster)} without a significant change "
                  "(interval of B/A excludes 1 only when the two 95% intervals do not overlap)")
    return 1 if args.fail_on_slower and slower else 0
