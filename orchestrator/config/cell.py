"""A cell: one environment x workload x profile x repeat, every parameter resolved."""

from __future__ import annotations

from pydantic import Field

from orchestrator.config.schema import DataSource, Option, _Strict


class Cell(_Strict):
    """One environment x workload x profile x repeat, with every parameter resolved."""

    environment: str
    workload: str
    profile: str
    repeat: int
    epochs: int
    batch_size: int
    train_samples: int | None
    test_samples: int | None
    steps_per_epoch: int | None
    data: DataSource
    timeout_s: float
    seed: int
    threads: int
    memory_limit_gb: float | None = None
    options: dict[str, Option] = Field(default_factory=dict)

    @property
    def cell_id(self) -> str:
        return f"{self.environment}__{self.workload}__{self.profile}__r{self.repeat}"
