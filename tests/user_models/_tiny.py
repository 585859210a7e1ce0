"""Shared by the test model files: tiny synthetic data and a tiny compiled Keras 3 model."""

import numpy as np
import keras


def load(spec):
    rng = np.random.default_rng(0)
    data = {"x_train": rng.normal(size=(64, 4)).astype("float32"), "y_train": rng.integers(0, 2, 64),
            "x_test": rng.normal(size=(16, 4)).astype("float32"), "y_test": rng.integers(0, 2, 16)}
    return data, {"source": "synthetic", "dataset": "tiny"}


def tiny_model(loss="sparse_categorical_crossentropy"):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="sgd", loss=loss, metrics=["accuracy"])
    return model
