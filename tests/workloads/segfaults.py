"""A cell whose process dies of a segmentation fault (reads address 0 through ctypes)."""

import ctypes

from _common import build, evaluate, load, timed_epochs  # noqa: F401


def fit(spec, model, data, callbacks):
    def body(epoch):
        print("segfaults: reading address 0", flush=True)
        ctypes.string_at(0)
    timed_epochs(spec, callbacks, body)
