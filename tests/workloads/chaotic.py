"""An ok cell (epochs sleep, as `sleepy`) that hangs when a chaos driver asks it to: in each epoch it tries to claim
the file `<data dir>/chaos/hang` (an atomic rename, so one cell claims each request) and, once claimed, sleeps far
past any timeout. benchmarks/chaos.py drops that file at random times to make a running cell hang."""

import os
import time

from _common import EPOCH_S, build, evaluate, load, timed_epochs  # noqa: F401


def claim_hang(data_dir):
    request = os.path.join(data_dir or ".", "chaos", "hang")
    try:
        os.rename(request, "%s.%d" % (request, os.getpid()))
    except OSError:
        return False
    return True


def fit(spec, model, data, callbacks):
    def body(epoch):
        if claim_hang(spec["data"]["dir"]):
            print("chaotic: asked to hang; sleeping for an hour", flush=True)
            time.sleep(3600)
        time.sleep(EPOCH_S)
    timed_epochs(spec, callbacks, body)
