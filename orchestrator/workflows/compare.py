"""`orchestrate compare RUN_A RUN_B`: per environment x workload x profile, run B's repeats against run A's:
the Hodges-Lehmann ratio (B / A) with its interval and the exact rank-sum test, Holm-adjusted over every compared
group; `slower` and `faster` only where the adjusted p is at most alpha and the change is beyond the tie
threshold (analysis/verdicts/)."""

from __future__ import annotations

from rich.console import Console

from orchestrator.analysis.stats import NOISE_CV, group_results
from orchestrator.analysis.verdicts.comparison import compare_runs
from orchestrator.analysis.verdicts.settings import Settings
from orchestrator.core.errors import ConfigError
from orchestrator.report.energy import comparison_table as energy_comparison
from orchestrator.report.terminal import comparison_table
from orchestrator.workflows.report import load_run

SLOWER_EXIT = 1  # with fail_on_slower: a cell significantly slower in RUN_B


def compare_two_runs(run_a: str, run_b: str, settings: Settings, console: Console,
                     fail_on_slower: bool = False) -> int:
    """Print the comparison of two run folders; the exit code (SLOWER_EXIT when `fail_on_slower` and a cell is
    significantly slower in `run_b`, else 0)."""
    a, b = load_run(run_a), load_run(run_b)
    comparisons, only_a, only_b = compare_runs(group_results(a.results, noise_cv=NOISE_CV),
                                               group_results(b.results, noise_cv=NOISE_CV), settings)
    if not comparisons:
        raise ConfigError(f"{run_a} and {run_b} share no environment x workload x profile; "
                          "nothing to compare")
    name_a, name_b = a.results[0].run_id, b.results[0].run_id
    if name_a == name_b:  # e.g. the same run id on two machines: tell them apart by folder
        name_a, name_b = str(run_a), str(run_b)
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
    return SLOWER_EXIT if fail_on_slower and counts["slower"] else 0
