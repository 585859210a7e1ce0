"""mnist_cnn: keras-team/keras examples/mnist_cnn.py at 5ce69728 (Keras 2.0.8).

Conv2D 32 3x3 relu, Conv2D 64 3x3 relu, MaxPooling 2x2, Dropout .25, Flatten, Dense 128 relu, Dropout .5,
Dense 10 softmax; Adadelta() (lr=1.0, rho=0.95, epsilon=1e-8); batch 128, 12 epochs, validation on the test set.
1,199,882 parameters.
"""

import compat
import datasets

NUM_CLASSES = 10
IMG_ROWS, IMG_COLS = 28, 28


def load(spec):
    (x_train, y_train), (x_test, y_test), info = datasets.load_mnist(spec)
    shape = input_shape()
    data = {
        "x_train": x_train.reshape((len(x_train),) + shape).astype("float32") / 255,
        "y_train": compat.one_hot(y_train, NUM_CLASSES),
        "x_test": x_test.reshape((len(x_test),) + shape).astype("float32") / 255,
        "y_test": compat.one_hot(y_test, NUM_CLASSES),
    }
    return data, info


def input_shape():
    """(1, 28, 28) or (28, 28, 1), as upstream chooses by K.image_data_format()."""
    if compat.image_data_format() == "channels_first":
        return (1, IMG_ROWS, IMG_COLS)
    return (IMG_ROWS, IMG_COLS, 1)


def build(spec, data):
    model = compat.Sequential()
    first = compat.add_input(model, input_shape())
    model.add(compat.Conv2D(32, (3, 3), activation="relu", **first))
    model.add(compat.Conv2D(64, (3, 3), activation="relu"))
    model.add(compat.MaxPooling2D(pool_size=(2, 2)))
    model.add(compat.Dropout(0.25))
    model.add(compat.Flatten())
    model.add(compat.Dense(128, activation="relu"))
    model.add(compat.Dropout(0.5))
    model.add(compat.Dense(NUM_CLASSES, activation="softmax"))
    opt, hp, deviations = compat.optimizer("adadelta")
    compat.compile_model(model, "categorical_crossentropy", opt)
    hyperparameters = {"optimizer": "Adadelta", "image_data_format": compat.image_data_format()}
    hyperparameters.update(hp)
    return model, {"hyperparameters": hyperparameters, "deviations": deviations}
