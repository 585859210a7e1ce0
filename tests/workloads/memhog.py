"""A cell that allocates memory (touching every page) until something stops it, up to 8 GiB."""

import time

from _common import build, evaluate, load, timed_epochs  # noqa: F401

BLOCK_MB = 64
CEILING_MB = 8192


def fit(spec, model, data, callbacks):
    import numpy as np
    blocks = []

    def body(epoch):
        while len(blocks) * BLOCK_MB < CEILING_MB:
            blocks.append(np.ones(BLOCK_MB * 2**20, dtype=np.uint8))  # ones: every page is written
            if len(blocks) % 4 == 0:
                print("memhog: %d MB" % (len(blocks) * BLOCK_MB), flush=True)
            time.sleep(0.02)
        raise RuntimeError("memhog: reached %d MB without being stopped" % CEILING_MB)
    timed_epochs(spec, callbacks, body)
