"""The one place that knows the Keras API generations (1.2.2, 2.x, 3.x).

Runs inside every environment: Python 3.6+, no orchestrator imports. Workloads build models only through
these helpers, so that one model definition means the same model on every Keras generation. The 2017
(Keras 2.0.8) hyperparameters are written out explicitly because defaults moved between generations.
"""

import os

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
    kwargs = {}
    if MAJOR >= 3:
        kwargs["jit_compile"] = jit_compile_requested()
    model.compile(loss=loss, optimizer=opt, metrics=list(metrics), **kwargs)


_JIT_VALUES = {"auto": "auto", "true": True, "false": False}


def jit_compile_requested():
    """Keras 3's compile(jit_compile=...) as set by the environment's ORCHESTRATE_JIT_COMPILE (default auto)."""
    raw = os.environ.get("ORCHESTRATE_JIT_COMPILE", "auto")
    try:
        return _JIT_VALUES[raw.strip().lower()]
    except KeyError:
        raise ValueError("ORCHESTRATE_JIT_COMPILE=%r (from the matrix environment's env:) must be one of %s"
                         % (raw, ", ".join(sorted(_JIT_VALUES))))


def jit_compile_of(model):
    """The jit / compile setting in force (Keras 3 resolves 'auto' per backend and model), or None before 3."""
    if MAJOR < 3:
        return None
    resolved = getattr(model, "jit_compile", None)
    backend = backend_name()
    if backend == "openvino":
        means = "OpenVINO compiles the graph for the CPU at the first predict"
    elif resolved:
        means = {"tensorflow": "tf.function(jit_compile=True): XLA", "jax": "jax.jit: XLA",
                 "torch": "torch.compile"}.get(backend, "compiled")
    else:
        means = {"tensorflow": "tf.function without XLA", "jax": "no jax.jit: eager",
                 "torch": "eager"}.get(backend, "eager")
    return {"requested": jit_compile_requested(), "resolved": resolved, "means": means}


def set_openvino_threads(threads):
    """Keras' OpenVINO backend compiles through openvino.compile_model(model, "CPU") with no config: give every
    such compile the cell's thread count (INFERENCE_NUM_THREADS) and float32 precision (OpenVINO's CPU
    default is bfloat16 where the CPU has AMX / AVX512-BF16, which would compare a different arithmetic).
    Returns the settings applied."""
    import openvino
    original = getattr(openvino.compile_model, "_orchestrate_original", openvino.compile_model)
    settings = {"INFERENCE_NUM_THREADS": int(threads), "INFERENCE_PRECISION_HINT": "f32"}

    def compile_model(model, device_name="AUTO", config=None):
        merged = dict(settings)
        merged.update(config or {})
        return original(model, device_name, merged)

    compile_model._orchestrate_original = original
    openvino.compile_model = compile_model
    return settings


def inference_settings(model):
    """Settings the backend reports for inference after a predict (OpenVINO: its compiled model's properties)."""
    compiled = getattr(model, "ov_compiled_model", None)
    if compiled is None:
        return {}
    settings = {}
    for name in ("INFERENCE_NUM_THREADS", "PERFORMANCE_HINT", "INFERENCE_PRECISION_HINT", "NUM_STREAMS"):
        try:
            value = compiled.get_property(name)
        except Exception:  # a property this OpenVINO version does not report
            continue
        settings[name] = value.get_type_name() if hasattr(value, "get_type_name") else str(value)
    return settings


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
