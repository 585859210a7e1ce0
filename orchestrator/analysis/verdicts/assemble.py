"""The whole verdict of a run, decided once: per-workload verdicts (training, and prediction and generation where
recorded) with the report's family adjusted by Holm, the ranking, the performance profile and the article's claims
(the last three on training). The terminal, the HTML page, `compare` and the sequential
rounds all read it."""

from __future__ import annotations

from dataclasses import dataclass, field

from orchestrator.analysis import article
from orchestrator.analysis.claims import Judgement, claim_pairs, judge_all
from orchestrator.analysis.sequential import stop_reason
from orchestrator.analysis.stats import Group
from orchestrator.analysis.verdicts.family import Decision, _adjust, decisions, pair_states, told
from orchestrator.analysis.verdicts.phases import phase_verdicts
from orchestrator.analysis.verdicts.ranking import (
    ProfileCurve,
    Rank,
    performance_profile,
    ranking,
)
from orchestrator.analysis.verdicts.settings import Settings
from orchestrator.analysis.verdicts.validity import ACCURACY_GAP, LOSS_GAP, equivalence_method
from orchestrator.analysis.verdicts.rows import WorkloadVerdict
from orchestrator.analysis.verdicts.workloads import training_verdicts

METHOD = ("Each repeat is a separate process (repeats interleaved across environments); its steady state is the "
          "median of its epochs after the first. A backend's time is the median over its repeats. Ratios are to "
          "the reference environment (below 1: faster): the Hodges-Lehmann estimate on log times (the median of "
          "all ratios between the two backends' repeats) with its distribution-free interval from the exact "
          "Mann-Whitney distribution, labelled with the level it achieves where below 95% (90% at 3 against 3), widened to the Welch interval where the two backends' spreads differ. "
          "faster/slower needs the exact two-sided rank-sum test (permutation distribution, ties by midranks; repeats far from the pooled median left out by a rule blind to the sides) "
          "significant after Holm's adjustment over all {decisions} decisions of this report (every ratio to the "
          "reference, each fastest-vs-runner-up margin and each article claim{phased}: the chance of any false "
          "faster/slower in the report is at most {alpha:g}), and a ratio beyond {threshold:.0%} either way "
          "(|log ratio| >= log {tie:g}); 'tie': the whole interval within [1/{tie:g}, {tie:g}], at a level of at "
          "least {tost:.0%} (an equivalence test at {alpha:g}). {looks}"
          "One repeat gives no interval and no verdict. Backends whose loss went NaN, whose test accuracy is at "
          "chance or far below the others' (a configuration's: more than {gap:.2f} below its base's, the float32 "
          "default run), or with a steady state of 0 s are excluded from 'fastest' (reason shown).{gate}")
LOSS_GATE = (" Profiles declared `validity: loss` ({profiles}: random-weight models trained too briefly to leave "
             "chance) are judged on training loss instead of test accuracy: a backend counts when its training loss "
             "is finite, falls from the first epoch to the last and ends within {gap:.0%} of the other backends' "
             "(medians over repeats); accuracy is reported, not judged, so those verdicts are about speed only.")
SYNTHETIC_GATE = (" On synthetic data ({where}: generated inputs and labels, recorded as synthetic) accuracy says "
                  "nothing about training: a backend counts when its loss is finite, and those verdicts are about "
                  "speed only.")
PHASES = ("Besides training, {what} {verb} judged the same way. A backend excluded for training is excluded there "
          "too; an inference-only environment (capabilities [infer]) takes part in prediction only, on the untrained "
          "model it timed. {rounds}")
PHASE_TEXT = {"predict": "prediction (each repeat's predict ms/step: the mean of its timed predict batches after the "
                         "warm-up batch)",
              "generate": "generation (each repeat's time per generated token, 1000 / tokens per s, so that a ratio "
                          "below 1 is faster here too)"}
SEQUENTIAL = ("Sequential repeats: looks at {looks} repeats per environment; after each look only the "
              "environments in undecided pairs get more, interleaved, until decided, the last look or the time "
              "budget; alpha is spent over the looks by fixed fractions {spending} (a pair's p is the smallest "
              "p_look / fraction over its looks, a valid p whatever the stopping; a tie's equivalence p is spent "
              "the same way). A repeat more than max(3 normalised MADs, 20%) slower than its environment's median "
              "log time (at most a third of them) is set aside from the looks, the ratio and its interval, and "
              "replaced by one more repeat (a look waits for it). ")


@dataclass
class VerdictReport:
    settings: Settings
    workloads: list[WorkloadVerdict]
    ranks: list[Rank]
    profile: list[ProfileCurve]
    claims: list[Judgement]
    phases: list[WorkloadVerdict] = field(default_factory=list)  # prediction and generation, where recorded

    @property
    def every(self) -> list[WorkloadVerdict]:
        """Every verdict of the report, training's first: the family is theirs together."""
        return self.workloads + self.phases

    def phase(self, workload: str, profile: str, phase: str) -> WorkloadVerdict | None:
        """A workload's verdict in one phase (None: that phase was not recorded)."""
        return next((v for v in self.every if v.phase_key == (workload, profile, phase)), None)

    @property
    def on_article(self) -> bool:
        """Whether any workload of this report is one of the 2017 article's (else its K80 columns and claims are
        left out)."""
        return article.covers(v.workload for v in self.workloads)

    @property
    def judged_claims(self) -> list[Judgement]:
        """The claims this run could speak to (not the "not run" ones)."""
        return [j for j in self.claims if j.status != "not run"]

    def stopping(self) -> list[tuple[str, str, str, str, str]]:
        """Per decision: (workload / profile, 'A vs B', repeats 'n_a + n_b' (with those set aside as slow and
        replaced, if any), verdict, why it stopped)."""
        plan = self.settings.plan
        return [(f"{p.workload} ({p.profile})", f"{p.env_a} vs {p.env_b}", f"{p.n_a} + {p.n_b}"
                 + (f" ({p.aside_a} + {p.aside_b} set aside as slow)" if p.aside_a or p.aside_b else ""), p.verdict,
                 stop_reason(p, plan)) for p in pair_states(self.workloads)]

    @property
    def decided(self) -> list[Decision]:
        """Every decision of the report once, as it is told in words (analysis/verdicts/family.py: `told`)."""
        return told(self.every, self.settings)

    @property
    def method(self) -> str:
        s = self.settings
        looks = SEQUENTIAL.format(looks=", ".join(map(str, s.looks)), spending=", ".join(f"{f:g}" for f in s.spending)) \
            if s.looks else ""
        gated = sorted({v.profile for v in self.workloads if v.gate == "loss"})
        gate = LOSS_GATE.format(profiles=", ".join(gated), gap=LOSS_GAP) if gated else ""
        synthetic = [f"{v.workload} ({v.profile})" for v in self.workloads if v.gate == "synthetic"]
        gate += SYNTHETIC_GATE.format(where=", ".join(synthetic)) if synthetic else ""
        gate += equivalence_method(any(r.validity.equivalence for v in self.workloads for r in v.rows),
                                   [f"{v.workload} ({v.profile})" for v in self.workloads if v.gate == "equivalence"])
        phased = sorted({v.phase for v in self.phases}, key=("predict", "generate").index)
        if phased:
            rounds = "Sequential repeats follow training's undecided pairs only. " if s.looks else ""
            looks += PHASES.format(what=" and ".join(PHASE_TEXT[p] for p in phased),
                                   verb="are" if len(phased) > 1 else "is", rounds=rounds)
        return METHOD.format(alpha=s.alpha, threshold=s.tie_threshold, tie=1 + s.tie_threshold, looks=looks,
                             tost=1 - 2 * s.alpha, gate=gate, gap=ACCURACY_GAP,
                             decisions=len(decisions(self.every)),
                             phased=", in every phase judged" if phased else "")


def build(groups: list[Group], settings: Settings = Settings()) -> VerdictReport:
    """Training verdicts (with the claims' pairs), then prediction and generation where recorded, adjusted as one
    family; ranking, performance profile and claims from training."""
    verdicts = training_verdicts(groups, settings, claim_pairs())
    phases = phase_verdicts(groups, verdicts, settings)
    _adjust(verdicts + phases, settings)
    return VerdictReport(settings, verdicts, ranking(verdicts), performance_profile(verdicts),
                         judge_all(verdicts, settings), phases)
