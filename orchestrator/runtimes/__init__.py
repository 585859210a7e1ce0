"""The runtimes by name: how `--runtime NAME` becomes a Runtime. Each is imported only when it is chosen
(Docker needs its SDK, Ray its extra)."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from orchestrator.core.errors import ConfigError
from orchestrator.config.load import LoadedMatrix
from orchestrator.runtimes.base import Log, Runtime

RUNTIMES: dict[str, str] = {
    "local": "orchestrator.runtimes.local:LocalRuntime",
    "docker": "orchestrator.runtimes.docker:DockerRuntime",
    "ray": "orchestrator.runtimes.ray:RayRuntime",
}
CHOICES = ("auto", *RUNTIMES)


def runtime_class(name: str) -> type[Runtime]:
    """The Runtime subclass registered as `name`."""
    if name not in RUNTIMES:
        raise ConfigError(f"--runtime {name}: unknown runtime; choose from: {', '.join(CHOICES)}")
    module, _, attribute = RUNTIMES[name].partition(":")
    cls: type[Runtime] = getattr(importlib.import_module(module), attribute)
    return cls


def resolve(name: str) -> tuple[str, str | None]:
    """`auto` resolved (docker where an engine with NVIDIA support and GPUs are present, else local) and why;
    any other name as given, with no reason."""
    if name != "auto":
        return name, None
    from orchestrator.runtimes.docker import auto_runtime

    return auto_runtime()


def create_runtime(name: str, loaded: LoadedMatrix, cache: Path, log: Log | None = None, **options: Any) -> Runtime:
    """An instance of the runtime registered as `name` (not `auto`: resolve it first)."""
    return runtime_class(name)(loaded, cache, log, **options)


__all__ = ["CHOICES", "RUNTIMES", "create_runtime", "resolve", "runtime_class"]
