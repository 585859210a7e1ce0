"""Prediction and generation, judged like training: per workload x profile, besides the training verdict (steady
s/epoch), a verdict on each repeat's predict ms/step (`Timings.predict_ms_per_step`: the mean of the timed predict
batches after the warm-up batch) and, where the workload generates (GPT-2's `generate_tokens_per_s`), one on each
repeat's time per generated token (1000 / tokens per s, in ms, so that a ratio below 1 is faster in every phase).
The same pair test, rows, fastest and margin as training; the decisions join the report's one Holm family
(assemble.py `build`).

Validity is training's: a backend excluded there is excluded here, with the same reasons. The one exception is an
inference-only environment (capabilities [infer], e.g. keras3-openvino): it never trains (every repeat is
`unsupported`), but its inference phase timed the freshly built model, so it takes part in the prediction verdict
(never in generation, which follows training).

A profile judges only the phases its `judge` list names (Settings.judges): the default comparison judges training
alone, so its family, and so its power, is what it was before prediction and generation were judged."""

from __future__ import annotations

import math
from dataclasses import dataclass
from collections.abc import Callable

from orchestrator.analysis.stats import Group, estimate
from orchestrator.analysis.verdicts.pairs import pair_test
from orchestrator.analysis.verdicts.rows import BackendRow, Phase, WorkloadVerdict
from orchestrator.analysis.verdicts.settings import Settings
from orchestrator.analysis.verdicts.validity import Validity
from orchestrator.analysis.verdicts.workloads import choose_reference, ranked
from orchestrator.results.schema import CellResult

UNIT: dict[Phase, str] = {"train": "s/epoch", "predict": "ms/step", "generate": "ms/token"}
MEASURE: dict[Phase, str] = {"train": "steady s/epoch", "predict": "predict ms/step",
                             "generate": "ms per generated token"}
TOKENS_PER_S = "generate_tokens_per_s"  # what gpt2_causal_lm's evaluate records in the test metrics


def _predict(result: CellResult) -> float | None:
    return result.timings.predict_ms_per_step


def _generate(result: CellResult) -> float | None:
    rate = result.metrics.test.get(TOKENS_PER_S)
    return 1000.0 / rate if rate is not None and math.isfinite(rate) and rate > 0 else None


SAMPLE: dict[Phase, Callable[[CellResult], float | None]] = {"predict": _predict, "generate": _generate}


@dataclass(frozen=True)
class InferenceOnly(Validity):
    """An inference-only environment's standing in the prediction verdict: it counts there."""

    def describe(self) -> str:
        return "valid to predict: inference only (capabilities [infer]; the model it timed was not trained)"


def inference_only(group: Group) -> bool:
    """Every repeat `unsupported` after an inference phase on the untrained model: what the harness does for an
    environment whose capabilities lack `train` (workloads/harness.py)."""
    return bool(group.results) and all(
        r.status == "unsupported" and (r.inference or {}).get("trained") is False for r in group.results)


def phase_samples(group: Group, phase: Phase) -> list[float]:
    """One time per repeat, in repeat order: the ok repeats' (an inference-only environment's: its `unsupported`
    repeats' predict times); none where the results do not record the phase (older results, other workloads)."""
    if phase == "train":
        return group.steady_samples
    source = group.results if phase == "predict" and inference_only(group) else group.ok
    values = [SAMPLE[phase](r) for r in source]
    return [v for v in values if v is not None and math.isfinite(v) and v > 0]


def phase_verdicts(groups: list[Group], training: list[WorkloadVerdict],
                   settings: Settings = Settings()) -> list[WorkloadVerdict]:
    """Per training verdict, a prediction and a generation verdict where some backend recorded that phase; their
    tests not yet adjusted (the caller adjusts the whole family)."""
    out = []
    for verdict in training:
        mine = [g for g in groups if (g.workload, g.profile) == verdict.key]
        for phase in ("predict", "generate"):
            if not settings.judges(verdict.profile, phase):
                continue
            judged = _phase_verdict(verdict, mine, phase, settings)
            if judged is not None:
                out.append(judged)
    return out


def _phase_verdict(training: WorkloadVerdict, groups: list[Group], phase: Phase,
                   settings: Settings) -> WorkloadVerdict | None:
    timed = [(g, samples) for g in groups if (samples := phase_samples(g, phase))]
    if not timed:
        return None
    environments = [g.environment for g, _ in timed]
    reference = training.reference if training.reference in environments else choose_reference(environments,
                                                                                               settings)
    ref_samples = next(samples for g, samples in timed if g.environment == reference)
    rows = []
    for g, samples in timed:
        vs = None if g.environment == reference else pair_test(ref_samples, samples, settings.tie_threshold,
                                                                settings.alpha, settings.plan)
        rows.append(BackendRow(g, _validity(training, g, phase), vs, samples, estimate(samples)))
    return ranked(WorkloadVerdict(training.workload, training.profile, reference, rows, settings, phase=phase))


def _validity(training: WorkloadVerdict, group: Group, phase: Phase) -> Validity:
    if phase == "predict" and inference_only(group):
        return InferenceOnly()
    row = training.row(group.environment)
    assert row is not None  # every group of the workload has a training row
    return row.validity
