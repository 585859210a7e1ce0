"""Pieces the modern workloads share: real data (bAbI as token sequences, CIFAR-10 as float images), their
size options, and what they record (the input pipeline that fed fit, the configuration).

Keras 3 only (Python 3.10+). Data comes through workloads/datasets.py, so a profile's train/test subset and
`--data synthetic` work as for the 2017 workloads, and the provenance is recorded the same way.
"""

import importlib.util

import numpy as np

import datasets


def option(spec, name, default):
    """A size setting from the matrix (workloads.<name>.options, a profile's override on top)."""
    return (spec.get("options") or {}).get(name, default)


def input_pipeline():
    """What feeds KerasHub's fit on numpy arrays: tf.data where tensorflow is installed, else grain."""
    if importlib.util.find_spec("tensorflow") is not None:
        return "tensorflow (tf.data)"
    if importlib.util.find_spec("grain") is not None:
        return "grain"
    return "none"


def keras_hub_version():
    import keras_hub
    return keras_hub.__version__


def babi_sequences(spec):
    """bAbI QA1 as one token sequence per question: story, question, answer (ids 1..vocab-1, 0 is padding).

    Returns (train, test, meta, info); train/test are int32 arrays (N, story_maxlen + query_maxlen + 1).
    """
    (x, xq, y), (tx, txq, ty), meta, info = datasets.load_babi(spec)

    def join(story, question, answer):
        return np.concatenate([story, question, answer.argmax(axis=-1)[:, None]], axis=1).astype("int32")

    return join(x, xq, y), join(tx, txq, ty), meta, info


def cifar10_images(spec):
    """CIFAR-10 as float32 images in [0, 1] and int labels, with its provenance."""
    (x_train, y_train), (x_test, y_test), info = datasets.load_cifar10(spec)
    data = {"x_train": x_train.astype("float32") / 255, "y_train": np.asarray(y_train).reshape(-1).astype("int32"),
            "x_test": x_test.astype("float32") / 255, "y_test": np.asarray(y_test).reshape(-1).astype("int32")}
    return data, info


def recorded(hyperparameters, **extra):
    """The model info every modern workload returns: its configuration, KerasHub's version, the pipeline."""
    hyperparameters = dict(hyperparameters, **extra)
    hyperparameters.setdefault("input_pipeline", input_pipeline())
    return {"hyperparameters": hyperparameters, "deviations": []}
