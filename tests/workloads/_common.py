"""Shared pieces of the test workloads: tiny synthetic data, a tiny real Keras model, timed fake epochs.

These workloads exercise the orchestrator (crashes, hangs, memory, interruption), not a framework: their
epochs sleep instead of training, so cells are short and their timing is predictable.
"""

import os
import time

import compat

EPOCH_S = 0.5


def load(spec):
    import numpy as np
    data = {"x_train": np.zeros((64, 4), "float32"), "y_train": np.zeros((64, 2), "float32"),
            "x_test": np.zeros((16, 4), "float32"), "y_test": np.zeros((16, 2), "float32")}
    info = {"source": "synthetic", "dataset": "test", "samples": {"train": 64, "test": 16},
            "notes": ["test workload: sleeps instead of training", "cpus %s" % _cpus()]}
    return data, info


def _cpus():
    try:
        return ",".join(str(c) for c in sorted(os.sched_getaffinity(0)))
    except AttributeError:
        return "unknown"


def build(spec, data):
    model = compat.Sequential()
    first = compat.add_input(model, (4,))
    model.add(compat.Dense(2, activation="softmax", **first))
    return model, {"hyperparameters": {}, "deviations": ["test workload"]}


def timed_epochs(spec, callbacks, body=None):
    """Call the harness's epoch callbacks around `body(epoch)` (default: sleep EPOCH_S) for each epoch."""
    for epoch in range(spec["epochs"]):
        for cb in callbacks:
            cb.on_epoch_begin(epoch)
        if body is None:
            time.sleep(EPOCH_S)
        else:
            body(epoch)
        for cb in callbacks:
            cb.on_epoch_end(epoch, {"loss": 1.0 / (epoch + 1), "accuracy": 0.5})


def evaluate(spec, model, data):
    return {"loss": 0.1, "accuracy": 1.0}
