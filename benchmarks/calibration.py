"""Calibration of the verdicts, by simulation through the project's own code.

Lognormal steady states (coefficient of variation CV), drawn for each repeat of each backend, go through
`group_results`, `analysis.verdicts.assemble.build` (every ratio to the reference, the fastest-vs-runner-up margin and the
article's claims, Holm over all of them) and, for the sequential default, `analysis.sequential.next_round`
(more repeats only for the environments in undecided pairs, up to the last look). Prints:

1. coverage of the ratio interval against its label, at 3-10 repeats a side, and with unequal spread (CV 20%
   against 2%);
2. the family-wise false-difference rate of seven identical backends (any "faster"/"slower" in the report), also
   with 10% outliers (a repeat 1.5x slower, as a shared machine gives) and with 10% failed repeats;
3. power: a backend truly 10% slower than the reference, the others identical, at CV 5%, with and without 10%
   outliers and with failed repeats;
4. false ties at the band's edge (true ratio 1.05, CV 2%), stopping at the first tie;
5. one missing repeat: 5 against 6 perfectly separated by 30%.
Then the targets, each with its figure. `run(draws)` returns the figures (tests/test_calibration.py runs it at
reduced draws).

Run: .venv/bin/python benchmarks/calibration.py [--draws 1000] [--seed 2026]
"""

from __future__ import annotations

import argparse
import math
import random
import time

from orchestrator.analysis.sequential import design, next_round, sequential_p
from orchestrator.analysis.stats import group_results
from orchestrator.analysis.verdicts.settings import Settings
from orchestrator.analysis.verdicts.family import pair_states
from orchestrator.analysis.verdicts.pairs import pair_test
from orchestrator.analysis.verdicts import assemble as verdict
from orchestrator.results.schema import (
    CellResult, DataInfo, EnvironmentInfo, EpochMetrics, Metrics, Threads, Timings, WorkloadInfo,
)

DEFAULT = ["tensorflow1", "cntk", "theano", "mxnet-keras1", "keras3-tensorflow", "keras3-jax", "keras3-torch"]
FIRST = 3  # the compare profile's repeats: the first look
PLAN = design(FIRST)
SEQUENTIAL = Settings(reference="tensorflow1", looks=PLAN.looks, spending=PLAN.spending)
DECISIONS = ("faster", "slower")


def draw(rng: random.Random, median: float, cv: float, n: int, outliers: float = 0.0) -> list[float]:
    """n lognormal steady states; with probability `outliers` a repeat is 1.5x slower (a busy shared machine)."""
    sigma = math.sqrt(math.log1p(cv * cv))
    return [median * math.exp(rng.gauss(0.0, sigma)) * (1.5 if rng.random() < outliers else 1.0)
            for _ in range(n)]


def cell(env: str, repeat: int, steady: float) -> CellResult:
    """One repeat of mnist_mlp at the compare profile whose epochs after the first take `steady` seconds."""
    epochs_s = [steady * 3, steady, steady]
    return CellResult(
        run_id="calibration", cell_id=f"{env}__mnist_mlp__compare__r{repeat}", status="ok",
        environment=EnvironmentInfo(name=env, backend=env, keras_version="-", python_version="-", runtime="local"),
        workload=WorkloadInfo(name="mnist_mlp", profile="compare", epochs=3, batch_size=128, repeat=repeat),
        data=DataInfo(source="synthetic", dataset="mnist"),
        timings=Timings(epochs_s=epochs_s, first_epoch_s=epochs_s[0], steady_state_s=steady),
        metrics=Metrics(per_epoch=[EpochMetrics(epoch=i + 1, seconds=s, loss=0.3, val_accuracy=0.9)
                                   for i, s in enumerate(epochs_s)], test={"accuracy": 0.9, "loss": 0.3}),
        threads=Threads(requested=2),
    )


def simulate_run(medians: dict[str, float], cv: float | dict[str, float], rng: random.Random,
                 settings: Settings = SEQUENTIAL, outliers: float = 0.0,
                 failures: float = 0.0) -> tuple[verdict.VerdictReport, dict[str, int]]:
    """One default run: the first round, then more repeats only where the rule asks, up to the last look. A
    repeat fails with probability `failures` (no steady state); the next round asks for the ok repeats it lacks,
    as workflows/rounds.py does."""
    cvs = cv if isinstance(cv, dict) else {env: cv for env in medians}
    ok: dict[str, list[float]] = {env: [] for env in medians}

    def attempt(env: str, count: int) -> None:
        for value in draw(rng, medians[env], cvs[env], count, outliers):
            if rng.random() >= failures:
                ok[env].append(value)

    for env in medians:
        attempt(env, FIRST)
    while True:
        cells = [cell(env, r, ok[env][r]) for r in range(max(len(v) for v in ok.values())) for env in medians
                 if r < len(ok[env])]
        report = verdict.build(group_results(cells), settings)
        wanted = {key[0]: n for key, n in next_round(pair_states(report.workloads), settings.plan).items()
                  if n > len(ok[key[0]])}
        if not wanted:
            return report, {env: len(v) for env, v in ok.items()}
        for env, n in wanted.items():
            attempt(env, n - len(ok[env]))


def report_decisions(report: verdict.VerdictReport) -> list[tuple[str, str, str]]:
    """(A, B, verdict) of every faster/slower the report states: rows, margins, claims."""
    found = []
    for v in report.workloads:
        tests = [(v.reference, r.environment, r.vs_reference) for r in v.rows if r.vs_reference is not None]
        if v.margin is not None and v.fastest and v.runner_up:
            tests.append((v.fastest.environment, v.runner_up.environment, v.margin))
        tests += [(a, b, t) for (a, b), t in v.pairs.items()]
        found += [(a, b, t.verdict) for a, b, t in tests if t.verdict in DECISIONS]
    return found


def covered(draws: int, rng: random.Random, n: int, cv_a: float, cv_b: float) -> tuple[float, float]:
    """(measured coverage, label) of the interval of a true ratio 1.10, n against n."""
    hits, label = 0, 1.0
    for _ in range(draws):
        t = pair_test(draw(rng, 1.0, cv_a, n), draw(rng, 1.1, cv_b, n))
        label = min(label, t.level or 0.0)
        hits += t.low <= 1.1 <= t.high  # type: ignore[operator]
    return hits / draws, label


def coverage(draws: int, rng: random.Random, figures: dict[str, float]) -> None:
    print(f"1. Interval coverage (true ratio 1.10; label = the level the interval states; {draws} draws a case)")
    print("   repeats  label   CV 2%   CV 5%  CV 10%")
    worst, worst_z = 1.0, math.inf
    for n in range(3, 11):
        row, label = [], 0.0
        for cv in (0.02, 0.05, 0.10):
            rate, label = covered(draws, rng, n, cv, cv)
            row.append(rate)
            worst, worst_z = min(worst, rate - label), min(worst_z, _in_errors(rate, label, draws))
        print(f"   {n:>2} v {n:<2}  {label:.3f}  " + "  ".join(f"{c:6.3f}" for c in row))
    print("   unequal spread (the reference's CV against the other's):  20% v 2%  10% v 5%")
    for n in (6, 12):
        row = []
        for cv_a, cv_b in ((0.20, 0.02), (0.10, 0.05)):
            rate, label = covered(draws, rng, n, cv_a, cv_b)
            worst, worst_z = min(worst, rate - label), min(worst_z, _in_errors(rate, label, draws))
            row.append(rate)
        figures[f"coverage unequal {n}v{n}"] = row[0]
        print(f"   {n:>2} v {n:<2}  {label:.3f}  " + "  ".join(f"{c:8.3f}" for c in row))
    figures["coverage minus label, worst"] = worst
    figures["coverage minus label, worst, in standard errors"] = worst_z


def _in_errors(rate: float, label: float, draws: int) -> float:
    """(coverage - label) in binomial standard errors of `draws` draws at the label."""
    return (rate - label) / math.sqrt(label * (1 - label) / draws)


def false_differences(draws: int, rng: random.Random, cv: float, outliers: float = 0.0,
                      failures: float = 0.0) -> tuple[float, float]:
    wrong, looks = 0, 0.0
    for _ in range(draws):
        report, have = simulate_run({env: 1.0 for env in DEFAULT}, cv, rng, outliers=outliers, failures=failures)
        wrong += bool(report_decisions(report))
        looks += sum(have.values()) / len(have)
    return wrong / draws, looks / draws


def power(draws: int, rng: random.Random, cv: float, envs: list[str], outliers: float = 0.0,
          failures: float = 0.0) -> tuple[float, float]:
    found, repeats = 0, 0.0
    for _ in range(draws):
        medians = {env: 1.1 if env == "keras3-jax" else 1.0 for env in envs}
        report, have = simulate_run(medians, cv, rng, outliers=outliers, failures=failures)
        row = report.workloads[0].row("keras3-jax")
        found += row is not None and row.vs_reference is not None and row.vs_reference.verdict == "slower"
        repeats += have["keras3-jax"]
    return found / draws, repeats / draws


def false_ties(draws: int, rng: random.Random, ratio: float, cv: float) -> tuple[float, float]:
    """P(tie) for a pair truly `ratio` apart (two backends, sequential, stopping at the first tie)."""
    ties, repeats = 0, 0.0
    for _ in range(draws):
        report, have = simulate_run({"tensorflow1": 1.0, "keras3-jax": ratio}, cv, rng)
        row = report.workloads[0].row("keras3-jax")
        ties += row is not None and row.vs_reference is not None and row.vs_reference.verdict == "tie"
        repeats += have["keras3-jax"]
    return ties / draws, repeats / draws


def missing_repeat() -> float:
    """The sequential p of 5 against 6 repeats perfectly separated by 30% (one of six failed)."""
    a = [1.0, 1.01, 0.99, 1.02, 0.98]
    b = [1.3, 1.31, 1.29, 1.32, 1.28, 1.3]
    return sequential_p(a, b, PLAN)


TARGETS = (  # (figure, at least / at most, target)
    ("coverage minus label, worst, in standard errors", ">=", -3.0),  # 34 cells: the worst of 34 simulations
    ("false faster/slower, worst", "<=", 0.05),
    ("false tie at the edge", "<=", 0.05),
    ("power, CV 5%", ">=", 0.80),
    ("power, CV 5%, 10% outliers", ">=", 0.80),
)


def run(draws: int, seed: int = 2026, full: bool = True) -> dict[str, float]:
    """Print the calibration and return its figures (`TARGETS` names the ones with a target). `full`: also the
    cases without a target (CV 2% and 10%, two backends)."""
    rng = random.Random(seed)
    figures: dict[str, float] = {}
    print(f"Design: looks at {PLAN.looks} repeats per environment, alpha {SEQUENTIAL.alpha:g} family-wise (Holm), "
          f"spent over the looks by {PLAN.spending} (ties too); tie threshold {SEQUENTIAL.tie_threshold:.0%} on "
          "log ratios.\n")
    coverage(draws, rng, figures)
    print("\n2. Family-wise false-difference rate, seven identical backends (target <= 0.05)")
    cases = [("CV 5%", 0.05, 0.0, 0.0), ("CV 5%, 10% outliers", 0.05, 0.1, 0.0),
             ("CV 5%, 10% failed repeats", 0.05, 0.0, 0.1)]
    if full:
        cases = [("CV 2%", 0.02, 0.0, 0.0), *cases, ("CV 10%", 0.10, 0.0, 0.0)]
    worst = 0.0
    for label, cv, outliers, failures in cases:
        rate, mean = false_differences(draws, rng, cv, outliers, failures)
        worst = max(worst, rate)
        print(f"   {label}: P(any faster/slower in the report) = {rate:.3f}  (mean repeats per backend {mean:.1f})")
    figures["false faster/slower, worst"] = worst
    print("\n3. Power: keras3-jax truly 10% slower than tensorflow1, seven backends (the other five identical; the "
          "report's family: 6 rows, the margin, the article's MXNet-CNTK claim), up to 12 repeats "
          "(target >= 0.80 at CV 5%)")
    cases = [("CV 5%", 0.05, 0.0, 0.0), ("CV 5%, 10% outliers", 0.05, 0.1, 0.0),
             ("CV 5%, 10% failed repeats", 0.05, 0.0, 0.1)]
    if full:
        cases = [("CV 2%", 0.02, 0.0, 0.0), *cases, ("CV 10%", 0.10, 0.0, 0.0)]
    for label, cv, outliers, failures in cases:
        rate, mean = power(draws, rng, cv, DEFAULT, outliers, failures)
        figures[f"power, {label}"] = rate
        print(f"   {label}: P(slower) = {rate:.3f}  (mean repeats of keras3-jax {mean:.1f})")
    if full:
        for label, cv, outliers in (("CV 5%", 0.05, 0.0), ("CV 5%, 10% outliers", 0.05, 0.1),
                                    ("CV 10%", 0.10, 0.0)):
            rate, mean = power(draws, rng, cv, ["tensorflow1", "keras3-jax"], outliers)
            print(f"   two backends, {label}: P(slower) = {rate:.3f}  (mean repeats of keras3-jax {mean:.1f})")
    print("\n4. False ties: keras3-jax truly 1.05x tensorflow1 (the band's edge), two backends, CV 2% "
          "(target <= 0.05)")
    rate, mean = false_ties(draws, rng, 1.05, 0.02)
    figures["false tie at the edge"] = rate
    print(f"   P(tie) = {rate:.3f}  (mean repeats of keras3-jax {mean:.1f})")
    print("\n5. One missing repeat: 5 against 6, perfectly separated by 30% (fixed-size exact p 0.0043)")
    figures["missing repeat p"] = missing_repeat()
    print(f"   sequential p = {figures['missing repeat p']:.4f}")
    print("\nTargets:")
    for name, sense, target in TARGETS:
        value = figures[name]
        met = value >= target if sense == ">=" else value <= target
        print(f"   {name}: {value:.3f} (target {sense} {target:g}) {'met' if met else 'NOT MET'}")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=1000, help="simulated runs a case (CI: 60)")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    started = time.monotonic()
    run(args.draws, args.seed)
    print(f"\n({args.draws} draws a case, {time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
