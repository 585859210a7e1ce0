"""A cell whose process aborts (SIGABRT, as a failed assertion in native code does) in its second epoch."""

import os

from _common import build, evaluate, load, timed_epochs  # noqa: F401


def fit(spec, model, data, callbacks):
    def body(epoch):
        if epoch == 1:
            print("aborts: calling os.abort() in epoch 2", flush=True)
            os.abort()
    timed_epochs(spec, callbacks, body)
