"""my_model: a small convnet on MNIST, the example of docs/your-model.md (any Keras 3 model works the same way).

Conv 16 3x3, max-pool, Conv 32 3x3, max-pool, dropout, Dense 10 softmax; Adam; 12,810 parameters.
`orchestrate run --model examples/my_model.py --data-dir DIR` runs it on keras3-tensorflow, keras3-jax and
keras3-torch (DIR holds mnist/mnist.npz; without it the data is generated and recorded as synthetic).
"""

import hashlib
import os

import numpy as np
import keras

EPOCHS = 3          # read by the orchestrator without importing this file; a profile may override it
BATCH_SIZE = 128


def load(spec):
    """Return (data, info): the arrays, and where they came from (recorded in every result)."""
    path = os.path.join(spec["data"]["dir"] or "", "mnist", "mnist.npz")
    n_train, n_test = spec.get("train_samples") or 60000, spec.get("test_samples") or 10000
    if spec["data"]["source"] == "real" and os.path.isfile(path):
        with np.load(path) as f:
            x_train, y_train = f["x_train"][:n_train], f["y_train"][:n_train]
            x_test, y_test = f["x_test"][:n_test], f["y_test"][:n_test]
        with open(path, "rb") as fh:
            digest = hashlib.sha256(fh.read()).hexdigest()
        info = {"source": "real", "dataset": "mnist", "path": path, "sha256": {"mnist.npz": digest}}
    else:  # no data directory: random images, recorded as synthetic (times are meaningful, accuracy is not)
        rng = np.random.default_rng(spec["seed"])
        x_train, x_test = (rng.integers(0, 256, (n, 28, 28), dtype=np.uint8) for n in (n_train, n_test))
        y_train, y_test = (rng.integers(0, 10, n) for n in (n_train, n_test))
        info = {"source": "synthetic", "dataset": "mnist-shaped random", "notes": ["no mnist.npz at %s" % path]}
    data = {
        "x_train": x_train[..., None].astype("float32") / 255, "y_train": y_train.astype("int32"),
        "x_test": x_test[..., None].astype("float32") / 255, "y_test": y_test.astype("int32"),
    }
    info["samples"] = {"train": len(x_train), "test": len(x_test)}
    return data, info


def build(spec, data):
    """Return a compiled Keras model (or (model, info) with hyperparameters to record)."""
    model = keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(16, 3, activation="relu"),
        keras.layers.MaxPooling2D(),
        keras.layers.Conv2D(32, 3, activation="relu"),
        keras.layers.MaxPooling2D(),
        keras.layers.Flatten(),
        keras.layers.Dropout(0.3),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model, {"hyperparameters": {"optimizer": "Adam", "learning_rate": 1e-3}}
