"""A loaded matrix expanded into cells: profile applied, selection checked, deterministic order (workloads, then
repeats, then environments)."""

from __future__ import annotations

import os
from typing import Any

from orchestrator.config.cell import Cell
from orchestrator.config.load import LoadedMatrix
from orchestrator.config.schema import DataSource, Environment, Matrix, WorkloadOverride
from orchestrator.core.errors import ConfigError


def expand(
    loaded: LoadedMatrix,
    profile: str | None = None,
    environments: list[str] | None = None,
    workloads: list[str] | None = None,
    data: DataSource | None = None,
    timeout_s: float | None = None,
    threads: int | None = None,
) -> list[Cell]:
    """The cells to run, in a deterministic order: workloads, then repeats, then environments.

    Repeats are interleaved across environments (A B C A B C ...), so slow drift of the machine (heat, other
    load) spreads evenly over the backends compared instead of falling on whichever ran last.

    `threads` is the default thread count per cell (the cores of a slot) when the matrix sets none.
    """
    m = loaded.matrix
    profile_name = profile or m.default.profile
    _check_selection(loaded, "--profile", [profile_name], m.profiles)
    env_names = environments or m.default.environments or list(m.environments)
    wl_names = workloads or m.default.workloads or list(m.workloads)
    _check_selection(loaded, "--env", env_names, m.environments)
    _check_selection(loaded, "--workload", wl_names, m.workloads)
    prof = m.profiles[profile_name]
    env_order = [n for n in m.environments if n in env_names]
    wl_order = [n for n in m.workloads if n in wl_names]
    cells = []
    for wl_name in wl_order:
        for repeat in range(prof.repeats):
            for env_name in env_order:
                if m.workloads[wl_name].environments and env_name not in m.workloads[wl_name].environments:
                    continue  # the workload names the environments that can run it
                cells.append(_cell(m, env_name, wl_name, profile_name, repeat, data, timeout_s, threads))
    return cells


def _cell(
    m: Matrix,
    env_name: str,
    wl_name: str,
    profile_name: str,
    repeat: int,
    data: DataSource | None,
    timeout_s: float | None,
    threads: int | None = None,
) -> Cell:
    wl = m.workloads[wl_name]
    prof = m.profiles[profile_name]
    over = prof.workloads.get(wl_name, WorkloadOverride())

    def pick(name: str, fallback: Any) -> Any:
        for value in (getattr(over, name), getattr(prof, name, None)):
            if value is not None:
                return value
        return fallback

    return Cell(
        environment=env_name,
        workload=wl_name,
        profile=profile_name,
        repeat=repeat,
        epochs=pick("epochs", wl.epochs),
        batch_size=_configured_batch_size(m.environments[env_name]) or over.batch_size or wl.batch_size,
        train_samples=pick("train_samples", None),
        test_samples=pick("test_samples", None),
        steps_per_epoch=pick("steps_per_epoch", None),
        data=data or prof.data,
        timeout_s=timeout_s or pick("timeout_s", prof.timeout_s),
        seed=m.seed + repeat,
        threads=m.threads or threads or default_threads(),
        memory_limit_gb=pick("memory_limit_gb", None),
        options={**wl.options, **over.options},
    )


def _configured_batch_size(env: Environment) -> int | None:
    return env.configuration.batch_size if env.configuration is not None else None


def default_threads() -> int:
    """Threads per cell when the matrix sets none: the cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _check_selection(loaded: LoadedMatrix, flag: str, names: list[str], known: dict[str, Any]) -> None:
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ConfigError(
            f"{flag} {', '.join(unknown)}: not in {loaded.path}; choose from: {', '.join(known)}"
        )
