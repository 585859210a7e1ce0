"""The verdict section of a report, computed once and rendered by terminal.py and html.py: per workload the
fastest valid backend with its margin, every backend's ratio to the reference, the ranking across workloads,
the performance profile and the article's claims judged on this machine."""

from __future__ import annotations

from dataclasses import dataclass

from orchestrator.report import article
from orchestrator.report.claims import Judgement, article_ratio, judge_all
from orchestrator.analysis.stats import Group
from orchestrator.analysis.verdicts import (
    ProfileCurve, Rank, Settings, WorkloadVerdict, performance_profile, ranking, workload_verdicts,
)

METHOD = ("Each repeat is a separate process (repeats interleaved across environments); its steady state is the "
          "median of its epochs after the first. A backend's time is the median over its repeats. Ratios are to "
          "the reference environment (below 1: faster), with a bootstrap 95% interval over repeats; "
          "faster/slower needs a two-sided Mann-Whitney U test at p <= {alpha:g}, an interval excluding 1 and a "
          "difference of at least {threshold:.0%}; 'tie': the whole interval within {threshold:.0%}. One repeat "
          "gives no interval and no verdict. Backends whose loss went NaN, whose test accuracy is at chance or far "
          "below the others' are excluded from 'fastest' (reason shown).")


@dataclass
class VerdictReport:
    settings: Settings
    workloads: list[WorkloadVerdict]
    ranks: list[Rank]
    profile: list[ProfileCurve]
    claims: list[Judgement]

    @property
    def method(self) -> str:
        return METHOD.format(alpha=self.settings.alpha, threshold=self.settings.tie_threshold)


def build(groups: list[Group], settings: Settings = Settings()) -> VerdictReport:
    verdicts = workload_verdicts(groups, settings)
    return VerdictReport(settings, verdicts, ranking(verdicts), performance_profile(verdicts),
                         judge_all(verdicts, settings))


def article_ordering(workload: str) -> str:
    return article.ordering(workload) or "-"


def k80_ratio(verdict: WorkloadVerdict, environment: str) -> float | None:
    return article_ratio(verdict.workload, environment, verdict.reference)
