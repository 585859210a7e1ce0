"""An ok cell that reads --data-dir/probe.txt in each epoch: it fails once that folder is gone, and it allocates
memory until stopped while the file says `allocate` (the out-of-memory fault of tests/test_faults.py)."""

import os
import time

from _common import EPOCH_S, build, evaluate, load, timed_epochs  # noqa: F401


def fit(spec, model, data, callbacks):
    probe = os.path.join(spec["data"]["dir"] or ".", "probe.txt")

    def body(epoch):
        with open(probe) as fh:
            if fh.read().strip() == "allocate":
                print("readsdata: allocating until stopped", flush=True)
                hog = []
                while True:
                    hog.append(bytearray(b"x" * (64 * 2**20)))  # written, so resident
        time.sleep(EPOCH_S)
    timed_epochs(spec, callbacks, body)
