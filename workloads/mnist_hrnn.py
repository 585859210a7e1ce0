"""mnist_hrnn: keras-team/keras examples/mnist_hierarchical_rnn.py at 5ce69728 (Keras 2.0.8); the article's "MNIST RNN".

Input (28, 28, 1); TimeDistributed(LSTM 128) encodes each row of pixels, LSTM 128 encodes the encoded rows,
Dense 10 softmax; optimizer 'rmsprop' (Keras 2.0.8 defaults: lr=0.001, rho=0.9, epsilon=1e-8); batch 32,
5 epochs, validation on the test set. 199,434 parameters.
"""

import compat
import datasets

NUM_CLASSES = 10
ROW_HIDDEN = 128
COL_HIDDEN = 128


def load(spec):
    (x_train, y_train), (x_test, y_test), info = datasets.load_mnist(spec)
    data = {
        "x_train": x_train.reshape(len(x_train), 28, 28, 1).astype("float32") / 255,
        "y_train": compat.one_hot(y_train, NUM_CLASSES),
        "x_test": x_test.reshape(len(x_test), 28, 28, 1).astype("float32") / 255,
        "y_test": compat.one_hot(y_test, NUM_CLASSES),
    }
    return data, info


def build(spec, data):
    row, col, pixel = data["x_train"].shape[1:]
    x = compat.Input(shape=(row, col, pixel))
    encoded_rows = compat.TimeDistributed(compat.LSTM(ROW_HIDDEN))(x)
    encoded_columns = compat.LSTM(COL_HIDDEN)(encoded_rows)
    prediction = compat.Dense(NUM_CLASSES, activation="softmax")(encoded_columns)
    model = compat.Model(x, prediction)
    opt, hp, deviations = compat.optimizer("rmsprop")
    compat.compile_model(model, "categorical_crossentropy", opt)
    hyperparameters = {"optimizer": "RMSprop", "lstm": compat.LSTM_HYPERPARAMETERS}
    hyperparameters.update(hp)
    return model, {"hyperparameters": hyperparameters, "deviations": deviations + compat.lstm_deviations()}
