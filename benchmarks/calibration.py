"""Calibration of the verdicts, by simulation through the project's own code.

Lognormal steady states (coefficient of variation CV), drawn for each repeat of each backend, go through
`group_results`, `analysis.verdicts.assemble.build` (every ratio to the reference, the fastest-vs-runner-up margin and the
article's claims, Holm over all of them) and, for the sequential default, `analysis.sequential.next_round`
(more repeats only for the environments in undecided pairs, up to the last look). Prints:

1. coverage of the ratio interval against its label, at 3-10 repeats a side;
2. the family-wise false-difference rate of seven identical backends (any "faster"/"slower" in the report);
3. power: a backend truly 10% slower than the reference, the others identical, at CV 5%.

Run: .venv/bin/python benchmarks/calibration.py [--draws 1000]
"""

from __future__ import annotations

import argparse
import math
import random
import time

from orchestrator.analysis.sequential import design, next_round
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


def draw(rng: random.Random, median: float, cv: float, n: int) -> list[float]:
    sigma = math.sqrt(math.log1p(cv * cv))
    return [median * math.exp(rng.gauss(0.0, sigma)) for _ in range(n)]


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


def simulate_run(medians: dict[str, float], cv: float, rng: random.Random,
                 settings: Settings = SEQUENTIAL) -> tuple[verdict.VerdictReport, dict[str, int]]:
    """One default run: the first round, then more repeats only where the rule asks, up to the last look."""
    most = settings.plan.max_repeats or FIRST
    samples = {env: draw(rng, m, cv, most) for env, m in medians.items()}
    have = {env: FIRST for env in medians}
    while True:
        cells = [cell(env, r, samples[env][r]) for r in range(max(have.values())) for env in medians
                 if r < have[env]]
        report = verdict.build(group_results(cells), settings)
        wanted = {key[0]: n for key, n in next_round(pair_states(report.workloads), settings.plan).items()
                  if n > have[key[0]]}
        if not wanted:
            return report, have
        have.update(wanted)


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


def coverage(draws: int, rng: random.Random) -> None:
    print("1. Interval coverage (true ratio 1.10; label = the level the interval states; "
          f"{draws} draws a case)")
    print("   repeats  label   CV 2%   CV 5%  CV 10%")
    for n in range(3, 11):
        row, label = [], None
        for cv in (0.02, 0.05, 0.10):
            covered = 0
            for _ in range(draws):
                t = pair_test(draw(rng, 1.0, cv, n), draw(rng, 1.1, cv, n))
                label = t.level
                covered += t.low <= 1.1 <= t.high  # type: ignore[operator]
            row.append(covered / draws)
        print(f"   {n:>2} v {n:<2}  {label:.3f}  " + "  ".join(f"{c:6.3f}" for c in row))


def false_differences(draws: int, rng: random.Random, cv: float) -> tuple[float, float]:
    wrong, looks = 0, 0.0
    for _ in range(draws):
        report, have = simulate_run({env: 1.0 for env in DEFAULT}, cv, rng)
        wrong += bool(report_decisions(report))
        looks += sum(have.values()) / len(have)
    return wrong / draws, looks / draws


def power(draws: int, rng: random.Random, cv: float, envs: list[str]) -> tuple[float, float]:
    found, repeats = 0, 0.0
    for _ in range(draws):
        medians = {env: 1.1 if env == "keras3-jax" else 1.0 for env in envs}
        report, have = simulate_run(medians, cv, rng)
        row = report.workloads[0].row("keras3-jax")
        found += row is not None and row.vs_reference is not None and row.vs_reference.verdict == "slower"
        repeats += have["keras3-jax"]
    return found / draws, repeats / draws


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=1000)
    args = parser.parse_args()
    rng = random.Random(2026)
    started = time.monotonic()
    print(f"Design: looks at {PLAN.looks} repeats per environment, alpha {SEQUENTIAL.alpha:g} family-wise (Holm), "
          f"spent over the looks by {PLAN.spending}; tie threshold {SEQUENTIAL.tie_threshold:.0%} on log ratios.\n")
    coverage(args.draws, rng)
    print("\n2. Family-wise false-difference rate, seven identical backends (target <= 0.05)")
    for cv in (0.02, 0.05, 0.10):
        rate, mean = false_differences(args.draws, rng, cv)
        print(f"   CV {cv:.0%}: P(any faster/slower in the report) = {rate:.3f}  (mean repeats per backend {mean:.1f})")
    print("\n3. Power: keras3-jax truly 10% slower than tensorflow1 (target >= 0.80 at CV 5%)")
    for label, envs in (("seven backends, the other five identical", DEFAULT),
                        ("two backends", ["tensorflow1", "keras3-jax"])):
        for cv in (0.02, 0.05, 0.10):
            rate, mean = power(args.draws, rng, cv, envs)
            print(f"   {label}, CV {cv:.0%}: P(slower) = {rate:.3f}  (mean repeats of keras3-jax {mean:.1f})")
    print(f"\n({args.draws} draws a case, {time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
