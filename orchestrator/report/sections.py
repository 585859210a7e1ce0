"""Text of the verdict section shared by terminal.py and html.py: workload counts of a rank, where a claim was
judged, the article's ordering and K80 ratio beside a verdict, and the ms/step caption. The verdict itself is
decided in analysis/verdicts/assemble.py."""

from __future__ import annotations

from orchestrator.analysis import article
from orchestrator.analysis.claims import Judgement, article_ratio
from orchestrator.analysis.verdicts.ranking import Rank
from orchestrator.analysis.verdicts.rows import WorkloadVerdict


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
