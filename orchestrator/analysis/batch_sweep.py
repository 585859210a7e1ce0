"""`orchestrate run --batch-size 32,128,512`: which backend is fastest at each batch size, and where that changes.

Each size ran as its own profile (`compare.bs128`, config/batch_sizes.py) and got its own verdict (its own
decisions, adjusted with the rest of the report). Here the verdicts of one workload and base profile are lined up
by size: the fastest valid backend at each (by median, as the verdict names it, with whether its lead over the
runner-up was decided), and a crossover where the fastest is not the same backend at every size. Nothing is
re-tested: a size's lead is what its verdict decided.
"""

from __future__ import annotations

from dataclasses import dataclass

from orchestrator.analysis.verdicts.rows import WorkloadVerdict
from orchestrator.config.batch_sizes import sized


@dataclass(frozen=True)
class SizeResult:
    """The fastest valid backend at one batch size (None: none valid) and whether its lead was decided."""

    size: int
    profile: str
    fastest: str | None
    decided: bool  # its margin over the runner-up is `slower` (decided), or it is the only valid backend


@dataclass(frozen=True)
class Sweep:
    """One workload's verdicts across batch sizes (smallest size first)."""

    workload: str
    profile: str  # the base profile
    sizes: list[SizeResult]

    @property
    def winners(self) -> dict[str, list[int]]:
        """Each backend that is fastest somewhere -> the sizes where it is (in size order)."""
        found: dict[str, list[int]] = {}
        for s in self.sizes:
            if s.fastest is not None:
                found.setdefault(s.fastest, []).append(s.size)
        return found

    @property
    def changes(self) -> bool:
        """Whether the fastest backend differs between sizes."""
        return len(self.winners) > 1

    @property
    def undecided(self) -> list[int]:
        """Sizes whose fastest backend was fastest by median only (its lead not decided)."""
        return [s.size for s in self.sizes if s.fastest is not None and not s.decided]

    def line(self) -> str:
        """'keras3-torch is fastest at 512; keras3-jax at 32 and 128' (the backend fastest at the largest size
        first), or 'keras3-jax is fastest at every batch size (32, 128, 512)'; with the sizes where that lead was
        not decided."""
        winners = self.winners
        where = f" on {self.workload} ({self.profile})"
        if not winners:
            return f"no valid backend at any batch size{where}"
        if not self.changes:
            (name, sizes), = winners.items()
            every = "every batch size" if len(sizes) == len(self.sizes) else "every batch size with a valid backend"
            text = f"{name} is fastest at {every} ({', '.join(map(str, sizes))}){where}"
        else:
            ordered = sorted(winners.items(), key=lambda item: -max(item[1]))
            parts = [f"{name} is fastest at {_sizes(sizes)}" if i == 0 else f"{name} at {_sizes(sizes)}"
                     for i, (name, sizes) in enumerate(ordered)]
            text = "; ".join(parts) + where
        if self.undecided:
            text += f" (by median only, not a decided lead, at {_sizes(self.undecided)})"
        return text


def _sizes(sizes: list[int]) -> str:
    """'32', '32 and 128', '32, 128 and 512'."""
    words = [str(s) for s in sizes]
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def size_result(verdict: WorkloadVerdict, size: int) -> SizeResult:
    fastest = verdict.fastest.environment if verdict.fastest else None
    decided = fastest is not None and (verdict.runner_up is None
                                       or (verdict.margin is not None and verdict.margin.verdict == "slower"))
    return SizeResult(size, verdict.profile, fastest, decided)


def sweeps(verdicts: list[WorkloadVerdict]) -> list[Sweep]:
    """One sweep per workload x base profile that ran at two batch sizes or more (training verdicts only)."""
    lined: dict[tuple[str, str], list[SizeResult]] = {}
    for v in verdicts:
        found = sized(v.profile)
        if found is None or getattr(v, "phase", "train") != "train":
            continue
        base, size = found
        lined.setdefault((v.workload, base), []).append(size_result(v, size))
    return [Sweep(workload, base, sorted(sizes, key=lambda s: s.size))
            for (workload, base), sizes in lined.items() if len(sizes) > 1]
