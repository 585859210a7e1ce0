"""Text of the verdict section shared by terminal.py and html.py: workload counts of a rank, where a claim was
judged, the article's ordering and K80 ratio beside a verdict, the ms/step caption, and the phases (train,
predict, generate) in order with their labels. The verdict itself is
decided in analysis/verdicts/assemble.py."""

from __future__ import annotations

from orchestrator.analysis import article
from orchestrator.analysis.claims import Judgement, article_ratio
from orchestrator.analysis.verdicts.assemble import VerdictReport
from orchestrator.analysis.verdicts.phases import MEASURE
from orchestrator.analysis.verdicts.ranking import Rank
from orchestrator.analysis.verdicts.rows import PHASES, BackendRow, WorkloadVerdict


def workloads_text(rank: Rank) -> str:
    """'2', or '1 (incomplete: ranked after those valid on every workload)'."""
    return str(rank.workloads) if rank.complete else f"{rank.workloads} (incomplete: ranked after the complete)"


def claim_where(judgement: Judgement) -> str:
    """'mnist_mlp (compare)': the workload and the profile a claim was judged on."""
    w = judgement.claim.workload
    return f"{w} ({judgement.profile})" if judgement.profile else w


STEP_TIMES = ("fit and predict ms/step as keras-benchmarks defines them (medians over repeats): the mean time of a "
              "training step after the first, and of a predict batch after the warm-up batch")


def has_step_times(verdict: WorkloadVerdict) -> bool:
    """Whether any backend on this workload recorded keras-benchmarks' ms/step (users' and today's models do)."""
    return any(r.group.fit_ms_per_step is not None or r.group.predict_ms_per_step is not None for r in verdict.rows)


def article_ordering(workload: str) -> str:
    return article.ordering(workload) or "-"


def k80_ratio(verdict: WorkloadVerdict, environment: str) -> float | None:
    return article_ratio(verdict.workload, environment, verdict.reference)


PHASE_LABEL = {"train": "train (s/epoch)", "predict": "predict (ms/step)", "generate": "generate (ms/token)"}
TO = {"train": "to train", "predict": "to predict", "generate": "to generate"}


def in_order(report: VerdictReport) -> list[WorkloadVerdict]:
    """Every verdict of the report, per workload its phases in order: train, then predict and generate where
    recorded."""
    return [v for t in report.workloads for v in [t] + [p for p in report.phases if p.key == t.key]]


def phases_of(report: VerdictReport) -> list[str]:
    """The phases this report judged, in order ('train' always; the others where some backend recorded them)."""
    return [p for p in PHASES if p == "train" or any(v.phase == p for v in report.phases)]


def ratio_title(verdict: WorkloadVerdict) -> str:
    """'mnist_mlp (compare): time relative to tensorflow1'; another phase names its measure."""
    where = f"{verdict.workload} ({verdict.profile})"
    if verdict.phase == "train":
        return f"{where}: time relative to {verdict.reference}"
    return f"{where}, {MEASURE[verdict.phase]}: relative to {verdict.reference}"


def tokens_per_s(verdict: WorkloadVerdict, row: BackendRow) -> float | None:
    """Generation's median time per token as tokens per second (what gpt2_causal_lm records), for reading."""
    return 1000.0 / row.median if verdict.phase == "generate" and row.median else None
