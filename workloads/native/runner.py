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
from protocol import API_NATIVE, Event, Spec, read_back
import settings_probe

FRAMEWORKS = {"torch": "native.torch_models", "jax": "native.jax_models", "tensorflow": "native.tf_models"}


def run(spec, events, describe_device=None):
    """describe_device: the harness's framework_device(backend, model), for the device record after training."""
    t0 = time.perf_counter()
    backend = spec[Spec.BACKEND]
    framework = importlib.import_module(FRAMEWORKS[backend])
    import_s = time.perf_counter() - t0
    framework.set_seed(spec[Spec.SEED])
    threads = framework.configure_threads(spec[Spec.THREADS])
    affinity = getattr(os, "sched_getaffinity", None)
    if affinity is not None:
        threads["cpu_affinity"] = len(affinity(0))
    threads.update(read_back(os.environ))  # the thread variables and other threading knobs, where set
    events.write(Event.START, versions=versions(framework), threads=threads, import_s=import_s,
                 image_data_format="channels_first" if backend == "torch" else "channels_last",
                 backend=backend, api=API_NATIVE)

    t0 = time.perf_counter()
    data, info = native_data.load(spec)
    info["seconds"] = time.perf_counter() - t0
    events.write(Event.DATA, **info)

    t0 = time.perf_counter()
    trainer = framework.build(spec[Spec.WORKLOAD], data, spec[Spec.SEED])
    events.write(Event.MODEL, params=int(trainer.params), seconds=time.perf_counter() - t0,
                 hyperparameters=hyperparameters(spec, trainer), deviations=list(trainer.deviations))

    t0 = time.perf_counter()
    fit(spec, trainer, data, events)
    totals = {"fit_s": time.perf_counter() - t0, "train_samples_per_epoch": int(len(data["x_train"]))}
    events.write(Event.FIT, **totals)
    events.write(Event.SETTINGS, **settings_probe.after_fit(backend, trainer))  # TF32, torch.compile counters
    if describe_device is not None:  # where the framework says the model ran, as for Keras cells
        events.write(Event.DEVICE, framework=describe_device(backend, Weights(first_weight(trainer))))

    t0 = time.perf_counter()
    loss, accuracy = trainer.evaluate(data["x_test"], data["y_test"], int(spec[Spec.BATCH_SIZE]))
    events.write(Event.EVALUATE, metrics={"loss": loss, "accuracy": accuracy}, seconds=time.perf_counter() - t0)
    events.write(Event.END, **totals)


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
    batch_size, n = int(spec[Spec.BATCH_SIZE]), len(x)
    for epoch in range(int(spec[Spec.EPOCHS])):
        order = native_data.epoch_order(n, int(spec[Spec.SEED]), epoch)
        t0 = time.perf_counter()
        sums = []
        for start, stop in native_data.batches(n, batch_size):
            index = order[start:stop]
            sums.append(trainer.train_step(x[index], y[index]))
        loss = sum(float(s[0]) for s in sums) / n  # read back once an epoch (no sync per step)
        accuracy = sum(float(s[1]) for s in sums) / n
        val_loss, val_accuracy = trainer.evaluate(data["x_test"], data["y_test"], batch_size)
        seconds = time.perf_counter() - t0
        events.write(Event.EPOCH, epoch=epoch + 1, seconds=seconds, loss=loss, accuracy=accuracy,
                     val_loss=val_loss, val_accuracy=val_accuracy)


def evaluate_batches(step, x, y, batch_size):
    """Mean loss and accuracy over the test set, batch by batch (as Keras' evaluate); step returns sums."""
    sums = [step(x[a:b], y[a:b]) for a, b in native_data.batches(len(x), batch_size)]
    return sum(float(s[0]) for s in sums) / len(x), sum(float(s[1]) for s in sums) / len(x)


def hyperparameters(spec, trainer):
    workload = spec[Spec.WORKLOAD]
    hp = {"api": API_NATIVE, "framework": spec[Spec.BACKEND], "floatx": "float32", "optimizer": trainer.optimizer}
    hp.update({k: v for k, v in OPTIMIZERS[workload].items() if k != "name"})
    if workload == "text_transformer":
        hp.update(TRANSFORMER)
    hp.update(trainer.settings)
    return hp


def versions(framework):
    out = {"python": platform.python_version(), "keras": "native", "numpy": np.__version__, "api": API_NATIVE}
    out.update(framework.versions())
    return out
