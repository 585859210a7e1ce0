"""A valid tiny model file on synthetic data (self-contained: only the file travels to Docker and Ray)."""

import numpy as np
import keras


def load(spec):
    rng = np.random.default_rng(0)
    data = {"x_train": rng.normal(size=(64, 4)).astype("float32"), "y_train": rng.integers(0, 2, 64),
            "x_test": rng.normal(size=(16, 4)).astype("float32"), "y_test": rng.integers(0, 2, 16)}
    return data, {"source": "synthetic", "dataset": "tiny"}


def build(spec, data, loss="sparse_categorical_crossentropy"):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="sgd", loss=loss, metrics=["accuracy"])
    return model
