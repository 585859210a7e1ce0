"""An ordinary Keras 3 model that learns but whose validation accuracy stays at chance after a brief training:
a small residual CNN with BatchNorm, GELU, AdamW and label smoothing on real MNIST (spec["train_samples"] of it).

After a few dozen steps the training accuracy rises, but BatchNorm's moving statistics (momentum 0.99) are still
near their initial values (mean 0, variance 1), and validation runs in inference mode on them: every backend sits
at chance on the test set. The backends computed the same model; the equivalence check (workloads/equivalence.py)
shows it, so the verdict is about speed (docs/your-model.md).
"""

import os

import keras
import numpy as np


def load(spec):
    path = os.path.join(spec["data"]["dir"] or "", "mnist", "mnist.npz")
    n_train, n_test = spec.get("train_samples") or 1024, spec.get("test_samples") or 512
    with np.load(path) as f:
        x_train, y_train = f["x_train"][:n_train], f["y_train"][:n_train]
        x_test, y_test = f["x_test"][:n_test], f["y_test"][:n_test]
    data = {
        "x_train": x_train[..., None].astype("float32") / 255, "y_train": np.eye(10, dtype="float32")[y_train],
        "x_test": x_test[..., None].astype("float32") / 255, "y_test": np.eye(10, dtype="float32")[y_test],
    }
    return data, {"source": "real", "dataset": "mnist", "path": path,
                  "samples": {"train": len(x_train), "test": len(x_test)}}


def conv_bn(x, filters):
    x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
    x = keras.layers.BatchNormalization()(x)
    return keras.layers.Activation("gelu")(x)


def build(spec, data):
    inputs = keras.Input((28, 28, 1))
    x = conv_bn(inputs, 16)
    shortcut = x
    x = conv_bn(x, 16)
    x = keras.layers.Conv2D(16, 3, padding="same", use_bias=False)(x)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.Activation("gelu")(keras.layers.Add()([x, shortcut]))
    x = keras.layers.MaxPooling2D()(x)
    x = conv_bn(x, 32)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(10, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.AdamW(3e-3, weight_decay=1e-4),
                  loss=keras.losses.CategoricalCrossentropy(label_smoothing=0.1), metrics=["accuracy"])
    return model, {"hyperparameters": {"optimizer": "AdamW", "learning_rate": 3e-3, "label_smoothing": 0.1}}
