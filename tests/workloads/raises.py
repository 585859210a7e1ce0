"""A cell whose workload raises an exception while building its model (the workload's own error)."""

from _common import evaluate, load  # noqa: F401


def build(spec, data):
    raise ValueError("raises: this workload's model cannot be built (deliberate test failure)")
