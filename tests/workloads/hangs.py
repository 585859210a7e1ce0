"""A cell that hangs in its first epoch (sleeps far past any test timeout)."""

import time

from _common import build, evaluate, load, timed_epochs  # noqa: F401


def fit(spec, model, data, callbacks):
    def body(epoch):
        print("hangs: sleeping for an hour", flush=True)
        time.sleep(3600)
    timed_epochs(spec, callbacks, body)
