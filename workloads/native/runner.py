"""Runs a native workload in a native environment and writes the harness's events (workloads/harness.py):
start, data, model, epoch, fit, evaluate, end; the same fields, so the orchestrator treats them as any cell.

The training loop is the same for every framework, as Keras' fit runs it: each epoch a seeded shuffle, batches of
batch_size (the last one partial), the running mean of the training loss and accuracy, then the test set
evaluated (validation_data); the epoch's time covers both, as the harness's epoch timer does for Keras.
A framework module (torch_models, jax_models, tf_models) gives configure_threads, versions and build(); build
returns a Trainer with params, train_step(x, y) -> (loss sum, correct) as device values, evaluate(x, y, batch).
"""

import importlib
import os
import platform
import time

import numpy as np

from native import data as native_data
from native.hyper import OPTIMIZERS, TRANSFORMER

FRAMEWORKS = {"torch": "native.torch_models", "jax": "native.jax_models", "tensorflow": "native.tf_models"}


def run(spec, events, describe_device=None):
    """describe_device: the harness's framework_device(backend, model), for the device record after training."""
    t0 = time.perf_counter()
    framework = importlib.import_module(FRAMEWORKS[spec["backend"]])
    import_s = time.perf_counter() - t0
    framework.set_seed(spec["seed"])
    threads = framework.configure_threads(spec["threads"])
    affinity = getattr(os, "sched_getaffinity", None)
    if affinity is not None:
        threads["cpu_affinity"] = len(affinity(0))
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "XLA_FLAGS", "OMP_WAIT_POLICY", "TF_ENABLE_ONEDNN_OPTS",
                "ORCHESTRATE_TORCH_COMPILE"):
        if var in os.environ:
            threads[var] = os.environ[var]
    events.write("start", versions=versions(framework), threads=threads, import_s=import_s,
                 image_data_format="channels_first" if spec["backend"] == "torch" else "channels_last",
                 backend=spec["backend"], api="native")

    t0 = time.perf_counter()
    data, info = native_data.load(spec)
    info["seconds"] = time.perf_counter() - t0
    events.write("data", **info)

    t0 = time.perf_counter()
    trainer = framework.build(spec["workload"], data, spec["seed"])
    events.write("model", params=int(trainer.params), seconds=time.perf_counter() - t0,
                 hyperparameters=hyperparameters(spec, trainer), deviations=list(trainer.deviations))

    t0 = time.perf_counter()
    fit(spec, trainer, data, events)
    totals = {"fit_s": time.perf_counter() - t0, "train_samples_per_epoch": int(len(data["x_train"]))}
    events.write("fit", **totals)
    if describe_device is not None:  # where the framework says the model ran, as for Keras cells
        events.write("device", framework=describe_device(spec["backend"], Weights(first_weight(trainer))))

    t0 = time.perf_counter()
    loss, accuracy = trainer.evaluate(data["x_test"], data["y_test"], int(spec["batch_size"]))
    events.write("evaluate", metrics={"loss": loss, "accuracy": accuracy}, seconds=time.perf_counter() - t0)
    events.write("end", **totals)


class Weights(object):
    """A model-like view (`weights[0]`) of a native trainer's first parameter, for the harness's device record."""

    def __init__(self, weight):
        self.weights = [weight] if weight is not None else []


def first_weight(trainer):
    """The trainer's first parameter as its framework holds it (None when it cannot be had)."""
    try:
        if hasattr(trainer, "module"):  # PyTorch
            return next(trainer.module.parameters())
        if hasattr(trainer, "state"):  # JAX: the split state after training
            import jax
            return jax.tree_util.tree_leaves(trainer.state)[0]
        return trainer.model.trainable_variables[0]  # TensorFlow
    except Exception:
        return None


def fit(spec, trainer, data, events):
    x, y = data["x_train"], data["y_train"]
    batch_size, n = int(spec["batch_size"]), len(x)
    for epoch in range(int(spec["epochs"])):
        order = native_data.epoch_order(n, int(spec["seed"]), epoch)
        t0 = time.perf_counter()
        sums = []
        for start, stop in native_data.batches(n, batch_size):
            index = order[start:stop]
            sums.append(trainer.train_step(x[index], y[index]))
        loss = sum(float(s[0]) for s in sums) / n  # read back once an epoch (no sync per step)
        accuracy = sum(float(s[1]) for s in sums) / n
        val_loss, val_accuracy = trainer.evaluate(data["x_test"], data["y_test"], batch_size)
        seconds = time.perf_counter() - t0
        events.write("epoch", epoch=epoch + 1, seconds=seconds, loss=loss, accuracy=accuracy,
                     val_loss=val_loss, val_accuracy=val_accuracy)


def evaluate_batches(step, x, y, batch_size):
    """Mean loss and accuracy over the test set, batch by batch (as Keras' evaluate); step returns sums."""
    sums = [step(x[a:b], y[a:b]) for a, b in native_data.batches(len(x), batch_size)]
    return sum(float(s[0]) for s in sums) / len(x), sum(float(s[1]) for s in sums) / len(x)


def hyperparameters(spec, trainer):
    hp = {"api": "native", "framework": spec["backend"], "floatx": "float32", "optimizer": trainer.optimizer}
    hp.update({k: v for k, v in OPTIMIZERS[spec["workload"]].items() if k != "name"})
    if spec["workload"] == "text_transformer":
        hp.update(TRANSFORMER)
    hp.update(trainer.settings)
    return hp


def versions(framework):
    out = {"python": platform.python_version(), "keras": "native", "numpy": np.__version__, "api": "native"}
    out.update(framework.versions())
    return out
