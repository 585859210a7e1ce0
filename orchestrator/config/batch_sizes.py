"""`orchestrate run --batch-size 32,128,512`: each selected workload at each batch size, one configuration row each.

A size is run as a profile of its own, `<profile>.bs<size>` (`compare.bs128`): a copy of the chosen profile whose
every workload trains at that batch size (fit, evaluate and predict). The workload keeps its name (built-in
workloads are imported by it), the cell ids stay plain names (`keras3-jax__my_model__compare.bs128__r0`), and each
size is its own workload x profile: its own verdict, its own decisions. analysis/batch_sweep.py reads the size back
with `sized`. A configuration that sets its own `batch_size` keeps it at every size.
"""

from __future__ import annotations

from collections.abc import Sequence

from orchestrator.config.load import LoadedMatrix
from orchestrator.config.schema import MAX_BATCH_SIZE, WorkloadOverride, _cell_name_problem
from orchestrator.core.errors import ConfigError

OPTION = "--batch-size"
SIZE_MARK = ".bs"  # compare.bs128: the profile `compare` at batch size 128
EXAMPLE = f"{OPTION} 32,128,512"


def parse_batch_sizes(text: str) -> tuple[int, ...]:
    """'32,128,512' -> (32, 128, 512); a ConfigError naming the option, the value and the bad part otherwise."""
    parts = [part.strip() for part in text.split(",")]
    sizes: list[int] = []
    for part in parts:
        if not part.isdigit():
            what = "an empty size" if not part else f"{part!r} is not a whole number"
            raise ConfigError(f"{OPTION} {text}: {what}; give batch sizes from 1 to {MAX_BATCH_SIZE} separated "
                              f"by commas, e.g. {EXAMPLE}")
        size = int(part)
        if not 1 <= size <= MAX_BATCH_SIZE:
            raise ConfigError(f"{OPTION} {text}: {size} is not a batch size; give sizes from 1 to "
                              f"{MAX_BATCH_SIZE}, e.g. {EXAMPLE}")
        if size in sizes:
            raise ConfigError(f"{OPTION} {text}: {size} is given twice; give each size once, e.g. {EXAMPLE}")
        sizes.append(size)
    return tuple(sizes)


def size_profile(profile: str, size: int) -> str:
    """The profile that runs `profile` at batch size `size`: 'compare.bs128'."""
    return f"{profile}{SIZE_MARK}{size}"


def sized(profile: str) -> tuple[str, int] | None:
    """('compare', 128) for 'compare.bs128'; None for a profile that is not a batch-size variant."""
    base, mark, size = profile.rpartition(SIZE_MARK)
    if not mark or not base or not size.isdigit() or str(int(size)) != size:
        return None
    return base, int(size)


def with_batch_sizes(loaded: LoadedMatrix, sizes: Sequence[int], profile: str | None) -> LoadedMatrix:
    """The matrix with the profile `<profile>.bs<size>` added for each size (unchanged without sizes).

    `profile`: the --profile asked for (None: the matrix's default)."""
    m = loaded.matrix
    base = profile or m.default.profile
    if not sizes:
        return loaded
    if base not in m.profiles:
        raise ConfigError(f"--profile {base}: not in {loaded.path}; choose from: {', '.join(m.profiles)}")
    original = m.profiles[base]
    added = {}
    for size in sizes:
        name = size_profile(base, size)
        problem = _cell_name_problem(name)
        if problem:
            raise ConfigError(f"{OPTION} {size}: the profile name {name!r} (profile {base!r} at that size) "
                              f"{problem}; use a profile with a shorter name")
        if name in m.profiles:
            raise ConfigError(f"{OPTION} {size}: {loaded.path} already has a profile {name!r}; rename it, or "
                              f"run it with --profile {name}")
        overrides = {w: original.workloads.get(w, WorkloadOverride()).model_copy(update={"batch_size": size})
                     for w in m.workloads}
        added[name] = original.model_copy(update={
            "workloads": overrides,
            "description": f"{base} at batch size {size} ({OPTION}); {original.description}".rstrip("; ")})
    matrix = m.model_copy(update={"profiles": {**m.profiles, **added}})
    return loaded.model_copy(update={"matrix": matrix})
