"""An ok cell: each epoch sleeps half a second."""

from _common import build, evaluate, load, timed_epochs  # noqa: F401


def fit(spec, model, data, callbacks):
    timed_epochs(spec, callbacks)
