"""The one place that knows the Keras API generations (1.2.2, 2.x, 3.x).

Runs inside every environment: Python 3.6+, no orchestrator imports. Workloads build models only through
these helpers, so that one model definition means the same model on every Keras generation. The 2017
(Keras 2.0.8) hyperparameters are written out explicitly because defaults moved between generations.
"""

import numpy as np

import keras

MAJOR = int(keras.__version__.split(".")[0])

# Keras 2.0.8 optimizer hyperparameters (keras/optimizers.py at keras-team/keras@5ce69728).
KERAS2_OPTIMIZERS = {
    "rmsprop": {"lr": 0.001, "rho": 0.9, "epsilon": 1e-8, "decay": 0.0},
    "adadelta": {"lr": 1.0, "rho": 0.95, "epsilon": 1e-8, "decay": 0.0},
    "adam": {"lr": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-8, "decay": 0.0},
}


def backend_name():
    return keras.backend.backend()


def backend_version():
    """The version of the framework behind Keras, read from the framework itself."""
    name = backend_name()
    module_name = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch", "cntk": "cntk",
                   "theano": "theano", "mxnet": "mxnet", "openvino": "openvino", "numpy": "numpy"}.get(name)
    if module_name is None:
        return None
    try:
        module = __import__(module_name)
    except ImportError:
        return None
    version = getattr(module, "__version__", None)
    if version is None and name == "openvino":
        try:
            from openvino import get_version
            version = get_version()
        except ImportError:
            pass
    return str(version) if version is not None else None


def image_data_format():
    if MAJOR == 1:
        return "channels_first" if keras.backend.image_dim_ordering() == "th" else "channels_last"
    return keras.backend.image_data_format()


def set_seed(seed):
    """Seed Python, NumPy and the backend's own generator."""
    import random
    random.seed(seed)
    np.random.seed(seed)
    if MAJOR >= 3:
        keras.utils.set_random_seed(seed)
        return
    if backend_name() == "tensorflow":
        import tensorflow as tf
        if hasattr(tf, "set_random_seed"):
            tf.set_random_seed(seed)
        else:
            tf.random.set_seed(seed)


# ---------------------------------------------------------------- layers

def Sequential():
    return keras.models.Sequential()


def Dense(units, activation=None, input_shape=None):
    kwargs = {"activation": activation}
    if input_shape is not None:
        kwargs["input_shape"] = input_shape
    return keras.layers.Dense(units, **kwargs)


def Dropout(rate):
    return keras.layers.Dropout(rate)


def Activation(name):
    return keras.layers.Activation(name)


def Flatten():
    return keras.layers.Flatten()


def add_input(model, shape):
    """Keras 3 Sequential models take an explicit Input; older generations take input_shape on the first layer."""
    if MAJOR >= 3:
        model.add(keras.Input(shape=shape))
        return {}
    return {"input_shape": shape}


# ---------------------------------------------------------------- optimizers

def optimizer(name, **overrides):
    """An optimizer with the Keras 2.0.8 hyperparameters (overridable), in this generation's vocabulary.

    Returns (optimizer, hyperparameters, deviations).
    """
    hp = dict(KERAS2_OPTIMIZERS[name])
    hp.update(overrides)
    deviations = []
    if MAJOR < 3:
        cls = {"rmsprop": keras.optimizers.RMSprop, "adadelta": keras.optimizers.Adadelta,
               "adam": keras.optimizers.Adam}[name]
        return cls(**hp), hp, deviations
    kwargs = {k: v for k, v in hp.items() if k not in ("lr", "decay")}
    learning_rate = hp["lr"]
    if hp.get("decay"):
        # Keras 2: lr / (1 + decay * iterations); Keras 3 has no `decay`: the same inverse-time schedule.
        learning_rate = keras.optimizers.schedules.InverseTimeDecay(
            initial_learning_rate=hp["lr"], decay_steps=1, decay_rate=hp["decay"])
    cls = {"rmsprop": keras.optimizers.RMSprop, "adadelta": keras.optimizers.Adadelta,
           "adam": keras.optimizers.Adam}[name]
    return cls(learning_rate=learning_rate, **kwargs), hp, deviations


# ---------------------------------------------------------------- training

def compile_model(model, loss, opt, metrics=("accuracy",)):
    model.compile(loss=loss, optimizer=opt, metrics=list(metrics))


def fit(model, x, y, batch_size, epochs, validation_data=None, callbacks=None, shuffle=True):
    kwargs = {"batch_size": batch_size, "verbose": 0, "callbacks": callbacks or [],
              "validation_data": validation_data, "shuffle": shuffle}
    if MAJOR == 1:
        kwargs["nb_epoch"] = epochs
    else:
        kwargs["epochs"] = epochs
    return model.fit(x, y, **kwargs)


def evaluate(model, x, y, batch_size):
    """Test metrics as a dict with normalised names (loss, accuracy)."""
    values = model.evaluate(x, y, batch_size=batch_size, verbose=0)
    if not isinstance(values, (list, tuple)):
        values = [values]
    names = getattr(model, "metrics_names", None) or ["loss", "accuracy"][:len(values)]
    if len(names) != len(values):  # Keras 3 may report compile_metrics as one name
        names = ["loss", "accuracy"][:len(values)]
    return {normalise_metric(n): float(v) for n, v in zip(names, values)}


def normalise_metric(name):
    """'acc' (Keras 1/2.0-2.2), 'accuracy' (2.3+, 3) and 'compile_metrics' (3) mean the same here."""
    name = str(name)
    prefix = "val_" if name.startswith("val_") else ""
    base = name[len(prefix):]
    if base in ("acc", "accuracy", "categorical_accuracy", "compile_metrics"):
        base = "accuracy"
    return prefix + base


Callback = keras.callbacks.Callback


def one_hot(labels, classes):
    labels = np.asarray(labels).reshape(-1).astype("int64")
    return np.eye(classes, dtype="float32")[labels]
