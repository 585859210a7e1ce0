"""mnist_mlp: keras-team/keras examples/mnist_mlp.py at 5ce69728 (Keras 2.0.8).

Dense 512 relu, Dropout .2, Dense 512 relu, Dropout .2, Dense 10 softmax; RMSprop(); batch 128, 20 epochs.
669,706 parameters.
"""

import compat
import datasets

NUM_CLASSES = 10


def load(spec):
    (x_train, y_train), (x_test, y_test), info = datasets.load_mnist(spec)
    x_train = x_train.reshape(len(x_train), 784).astype("float32") / 255
    x_test = x_test.reshape(len(x_test), 784).astype("float32") / 255
    data = {
        "x_train": x_train, "y_train": compat.one_hot(y_train, NUM_CLASSES),
        "x_test": x_test, "y_test": compat.one_hot(y_test, NUM_CLASSES),
    }
    return data, info


def build(spec, data):
    model = compat.Sequential()
    first = compat.add_input(model, (784,))
    model.add(compat.Dense(512, activation="relu", **first))
    model.add(compat.Dropout(0.2))
    model.add(compat.Dense(512, activation="relu"))
    model.add(compat.Dropout(0.2))
    model.add(compat.Dense(NUM_CLASSES, activation="softmax"))
    opt, hp, deviations = compat.optimizer("rmsprop")
    compat.compile_model(model, "categorical_crossentropy", opt)
    return model, {"hyperparameters": {"optimizer": "RMSprop", **hp}, "deviations": deviations}
