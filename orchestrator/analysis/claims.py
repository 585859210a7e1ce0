"""The 2017 article's claims as data, and what this run says about each: reproduced, refuted or inconclusive.

A claim is an ordering (or a tie) between two of the article's backends on one workload, with the K80 ratio
where the sources give one. It is judged on this machine by the same pair test as every verdict (Hodges-Lehmann
ratio over repeats, exact rank-sum test, tie threshold), between the environments that stand for those backends
here, as one of the report's decisions adjusted together (Holm, analysis/verdicts/family.py), on every profile of the
workload that ran. Orderings and ratios are compared, never seconds across different hardware.

Sources: docs/reference.md of the project (the article's text, and its notebooks' surviving outputs as corrected:
MXNet's cifar10 figure is 23.6 s/epoch over 100 epochs, no TensorFlow cifar10 timing survived, and the article's
babi_rnn ran QA2 1k where this project runs QA1 en-10k).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from orchestrator.analysis.article import NOTEBOOK, TEXT, for_cell
from orchestrator.analysis.verdicts.pairs import PairTest, pair_test
from orchestrator.analysis.verdicts.settings import Settings
from orchestrator.analysis.verdicts.rows import WorkloadVerdict

# The environment of the default matrix that stands for each of the article's backends.
ENVIRONMENT_OF = {"tensorflow": "tensorflow1", "cntk": "cntk", "theano": "theano", "mxnet": "mxnet-keras1"}

Relation = Literal["faster", "slower", "tie"]
Status = Literal["reproduced", "refuted", "inconclusive", "not run", "untestable"]


@dataclass(frozen=True)
class Claim:
    """`subject` is `relation` than `baseline` on `workload` (time ratio subject / baseline on the K80)."""

    id: str
    workload: str
    text: str
    subject: str  # the article's backend names: tensorflow, cntk, theano, mxnet
    baseline: str
    relation: Relation | None  # None: the sources give no ordering to test
    article_ratio: float | None
    source: str
    factor: float | None = None  # "over twice as fast": the ratio must lie beyond this factor
    caveat: str = ""


QA2 = "the article ran bAbI QA2 1k; this project runs QA1 en-10k (a different task size): orderings only"

CLAIMS: tuple[Claim, ...] = (
    Claim("mlp-cntk-tf", "mnist_mlp", "MNIST MLP: CNTK and TensorFlow equal (2.76 vs 2.77 s/epoch)",
          "cntk", "tensorflow", "tie", 2.76 / 2.77, NOTEBOOK),
    Claim("mlp-theano-tf", "mnist_mlp", "MNIST MLP: CNTK, TensorFlow and Theano alike, 2.5-2.7 s/epoch",
          "theano", "tensorflow", "tie", None, TEXT),
    Claim("mlp-mxnet-tf", "mnist_mlp", "MNIST MLP: MXNet fastest, 1.49 s/epoch against TensorFlow's 2.77",
          "mxnet", "tensorflow", "faster", 1.49 / 2.77, NOTEBOOK),
    Claim("mlp-mxnet-cntk", "mnist_mlp", "MNIST MLP: MXNet faster than CNTK (1.49 vs 2.76 s/epoch)",
          "mxnet", "cntk", "faster", 1.49 / 2.76, NOTEBOOK),
    Claim("cnn-cntk-tf", "mnist_cnn", "MNIST CNN: TensorFlow faster than CNTK (10.3 vs 14.9 s/epoch)",
          "cntk", "tensorflow", "slower", 14.9 / 10.3, NOTEBOOK),
    Claim("hrnn-cntk-tf", "mnist_hrnn", "MNIST RNN: CNTK faster than TensorFlow (164 vs 179 s/epoch)",
          "cntk", "tensorflow", "faster", 164 / 179, NOTEBOOK),
    Claim("hrnn-mxnet-cntk", "mnist_hrnn", "MNIST RNN: CNTK and MXNet alike, 162-164 s/epoch",
          "mxnet", "cntk", "tie", None, TEXT),
    Claim("hrnn-theano-tf", "mnist_hrnn", "MNIST RNN: Theano much slower than TensorFlow", "theano", "tensorflow",
          "slower", None, TEXT),
    Claim("babi-cntk-tf-text", "babi_rnn", "bAbI: TensorFlow over twice as fast as CNTK (article text)",
          "cntk", "tensorflow", "slower", None, TEXT, factor=2.0, caveat=QA2),
    Claim("babi-cntk-theano-text", "babi_rnn", "bAbI: Theano over twice as fast as CNTK (article text)",
          "cntk", "theano", "slower", None, TEXT, factor=2.0, caveat=QA2),
    Claim("babi-cntk-tf-notebook", "babi_rnn", "bAbI: CNTK faster than TensorFlow (9.5 vs 22.6 s/epoch, notebook)",
          "cntk", "tensorflow", "faster", 9.5 / 22.6, NOTEBOOK, caveat=QA2),
    Claim("cifar-mxnet-cntk", "cifar10_cnn",
          "CIFAR-10 CNN: MXNet 23.6 s/epoch (100 epochs) against CNTK's 22.9 or 29.6 (two runs)",
          "mxnet", "cntk", None, None, NOTEBOOK,
          caveat="no ordering to test: CNTK's two timings straddle MXNet's, and no TensorFlow timing survived"),
)


@dataclass(frozen=True)
class Judgement:
    claim: Claim
    status: Status
    why: str
    test: PairTest | None = None  # subject's repeats against baseline's: ratio subject / baseline
    profile: str | None = None  # the profile it was judged on (None: not run, untestable)


def claim_pairs() -> tuple[tuple[str, str, str], ...]:
    """(workload, baseline environment, subject environment) of every testable claim: decisions the report makes,
    for `workload_verdicts(extra_pairs=...)` to put in the family."""
    return tuple((c.workload, ENVIRONMENT_OF[c.baseline], ENVIRONMENT_OF[c.subject]) for c in CLAIMS
                 if c.relation is not None)


def judge_all(verdicts: list[WorkloadVerdict], settings: Settings) -> list[Judgement]:
    """Every claim on every profile of its workload that this run measured (else one 'not run')."""
    return [j for claim in CLAIMS for j in judge(claim, verdicts, settings)]


def judge(claim: Claim, verdicts: list[WorkloadVerdict], settings: Settings) -> list[Judgement]:
    subject_env, baseline_env = ENVIRONMENT_OF[claim.subject], ENVIRONMENT_OF[claim.baseline]
    matching = [v for v in verdicts if v.workload == claim.workload and v.row(subject_env) and v.row(baseline_env)]
    if claim.relation is None and any(v.workload == claim.workload for v in verdicts):
        return [Judgement(claim, "untestable", claim.caveat)]
    if not matching:
        return [Judgement(claim, "not run", f"this run has no {claim.workload} cells of both {subject_env} and "
                                            f"{baseline_env}")]
    return [_judge_on(claim, v, subject_env, baseline_env, settings) for v in matching]


def _judge_on(claim: Claim, verdict: WorkloadVerdict, subject_env: str, baseline_env: str,
              settings: Settings) -> Judgement:
    subject, baseline = verdict.row(subject_env), verdict.row(baseline_env)
    assert subject is not None and baseline is not None
    test = verdict.test(baseline_env, subject_env) or pair_test(  # outside a report's family: decided alone
        baseline.group.steady_samples, subject.group.steady_samples, settings.tie_threshold, settings.alpha,
        settings.plan)
    profile = verdict.profile
    for row in (subject, baseline):
        if not row.validity.valid:
            return Judgement(claim, "inconclusive", f"{row.environment} excluded: {row.validity.describe()}", test,
                             profile)
    status, why = _decide(claim, test, settings)
    return Judgement(claim, status, why, test, profile)


def _decide(claim: Claim, test: PairTest, settings: Settings) -> tuple[Status, str]:
    found = {"faster": "faster", "slower": "slower", "tie": f"a tie (within {settings.tie_threshold:.0%})"}
    if test.verdict not in found:
        return "inconclusive", f"{test.verdict} ({test.describe()}, p={test.describe_p()})"
    seen = f"{ENVIRONMENT_OF[claim.subject]} {found[test.verdict]} ({test.describe()}, p={test.describe_p()})"
    if test.verdict != claim.relation:
        return "refuted", seen
    if claim.factor is None or test.low is None or test.high is None:
        return "reproduced", seen
    beyond = test.low >= claim.factor if claim.relation == "slower" else test.high <= claim.factor
    short = test.high < claim.factor if claim.relation == "slower" else test.low > claim.factor
    if beyond:
        return "reproduced", seen + f", beyond the claimed factor {claim.factor:g}"
    if short:
        return "refuted", seen + f", but short of the claimed factor {claim.factor:g}"
    return "inconclusive", seen + f"; the interval straddles the claimed factor {claim.factor:g}"


def article_ratio(workload: str, environment: str, reference: str) -> float | None:
    """The K80 ratio of the article's backend standing for `environment` to the one standing for `reference`
    (only for the article's own environments; s/epoch as printed, so ranges count by their middle)."""
    backend_of = {env: backend for backend, env in ENVIRONMENT_OF.items()}
    if environment not in backend_of or reference not in backend_of:
        return None
    mine, ref = for_cell(workload, backend_of[environment]), for_cell(workload, backend_of[reference])
    if mine is None or ref is None or not mine.s_per_epoch or not ref.s_per_epoch:
        return None
    return mine.s_per_epoch / ref.s_per_epoch
