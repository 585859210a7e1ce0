"""An environment ready to run cells: what a runtime's prepare returns (a virtualenv, an image or an existing
interpreter), with its content hash, its packages and the paths a cell's process needs."""

from __future__ import annotations

from dataclasses import dataclass, field

from orchestrator.config.schema import Environment
from orchestrator.environments.layout import EnvPaths


@dataclass(frozen=True)
class Prepared:
    """An environment that is ready to run cells."""

    name: str
    environment: Environment
    env_hash: str
    paths: EnvPaths
    python_version: str
    packages: dict[str, str] = field(default_factory=dict)
    reused: bool = False
    image: str | None = None
