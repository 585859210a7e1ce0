"""The one place that knows the Keras API generations (1.2.2, 2.x, 3.x).

Runs inside every environment: Python 3.6+, no orchestrator imports. Workloads build models only through
these helpers, so that one model definition means the same model on every Keras generation. The 2017
(Keras 2.0.8) hyperparameters are written out explicitly because defaults moved between generations.
"""

import os
import queue
import threading
import time

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


# ---------------------------------------------------------------- legacy backends (Keras 1/2)

def tf1_session_threads():
    """The thread counts of the session Keras 2 uses on TensorFlow 1.x (graph mode), read back from it."""
    import tensorflow as tf
    if MAJOR >= 3 or not tf.__version__.startswith("1."):
        return {}
    config = keras.backend.get_session()._config
    return {"tf1_session_intra_op": config.intra_op_parallelism_threads,
            "tf1_session_inter_op": config.inter_op_parallelism_threads}


def configure_legacy_threads(threads):
    """Thread settings of CNTK, Theano and MXNet (beyond OMP/MKL/OPENBLAS_NUM_THREADS set by the host)."""
    name = backend_name()
    applied = {}
    if name == "cntk":
        import cntk
        cntk.cntk_py.set_max_num_cputhreads(threads)
        applied["cntk_max_cpu_threads"] = cntk.cntk_py.get_max_num_cputhreads()
    elif name == "theano":
        import theano
        applied["theano_openmp"] = bool(theano.config.openmp)
        applied["theano_blas_ldflags"] = theano.config.blas.ldflags
    elif name == "mxnet":
        import mxnet
        applied["mxnet_engine"] = os.environ.get("MXNET_ENGINE_TYPE", "ThreadedEnginePerDevice")
        features = getattr(getattr(mxnet, "runtime", None), "Features", None)
        if features is not None:  # mxnet >= 1.5
            applied["mxnet_mkldnn"] = features().is_enabled("MKLDNN")
        else:  # mxnet-mkl 1.4 ships libmkldnn beside libmxnet
            folder = os.path.dirname(mxnet.__file__)
            applied["mxnet_mkldnn"] = os.path.exists(os.path.join(folder, "libmkldnn.so.0"))
    return applied


def make_functions(model):
    """Keras 1/2: build the train and test functions now and time it (Theano compiles C here; cached per
    environment). fit() would build them lazily before its first epoch; Keras 3 compiles inside the first
    steps instead (seen in the first epoch's time). Returns {"seconds", "backend"} or None."""
    if MAJOR >= 3 or not hasattr(model, "_make_train_function"):
        return None
    t0 = time.perf_counter()
    model._make_train_function()
    model._make_test_function()
    return {"seconds": time.perf_counter() - t0, "backend": backend_name()}


def mxnet_context():
    """Keras 1.2.2 on MXNet runs on mx.current_context() (the CPU) unless compile() gets a context:
    pass the first GPU when MXNet sees one (keras-mxnet 2 picks it by itself)."""
    if MAJOR != 1 or backend_name() != "mxnet":
        return None
    import mxnet
    try:
        gpus = mxnet.context.num_gpus()
    except Exception:  # CPU-only build, or an MXNet without num_gpus
        gpus = 0
    return ["gpu(0)"] if gpus else None


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


def Conv2D(filters, kernel_size, padding="valid", activation=None, **kwargs):
    """A 2-D convolution; Keras 1.2.2 spells it Convolution2D(filters, rows, cols, border_mode=...).

    The data format is the environment's (keras.json); workloads shape their input with image_data_format().
    """
    if activation is not None:
        kwargs["activation"] = activation
    if MAJOR == 1:
        rows, cols = kernel_size
        return keras.layers.Convolution2D(filters, rows, cols, border_mode=padding, **kwargs)
    return keras.layers.Conv2D(filters, kernel_size, padding=padding, **kwargs)


def MaxPooling2D(pool_size=(2, 2)):
    return keras.layers.MaxPooling2D(pool_size=pool_size)


def keras2_hard_sigmoid(x):
    """Keras 1/2's hard_sigmoid, clip(0.2 x + 0.5, 0, 1); Keras 3's is relu6(x + 3) / 6, another function."""
    ops = keras.ops
    return ops.clip(ops.add(ops.multiply(x, 0.2), 0.5), 0.0, 1.0)


# What the LSTMs use in every generation (Keras 2.0.8 defaults, written out).
LSTM_HYPERPARAMETERS = {"activation": "tanh", "recurrent_activation": "hard_sigmoid (clip(0.2x + 0.5, 0, 1))",
                        "kernel_initializer": "glorot_uniform", "recurrent_initializer": "orthogonal",
                        "unit_forget_bias": True}


# The LSTM `implementation` modes (Keras 1 calls them consume_less): the same maths, other kernels.
LSTM_MODES = {
    0: "mode 0: the input projections of all timesteps computed before the loop (Keras 1 consume_less='cpu')",
    1: "mode 1: per step, one small matrix product per gate (Keras 1 consume_less='mem')",
    2: "mode 2: per step, one matrix product for all four gates (Keras 1 consume_less='gpu')",
}
_CONSUME_LESS = {0: "cpu", 1: "mem", 2: "gpu"}


def lstm_modes_supported():
    """The modes this Keras takes: Keras 1 and 2.0 have all three; from 2.1 (cell-based RNNs) mode 0 is gone."""
    parts = keras.__version__.split(".")
    if MAJOR == 1 or (MAJOR == 2 and int(parts[1]) < 1):
        return (0, 1, 2)
    return (1, 2)


def lstm_implementation_requested():
    """The LSTM mode pinned by the matrix (environment `lstm_implementation`, passed as
    ORCHESTRATE_LSTM_IMPLEMENTATION), or None for the generation's default."""
    raw = os.environ.get("ORCHESTRATE_LSTM_IMPLEMENTATION", "").strip()
    if not raw:
        return None
    if raw not in ("0", "1", "2") or int(raw) not in lstm_modes_supported():
        raise ValueError("ORCHESTRATE_LSTM_IMPLEMENTATION=%r (the matrix environment's lstm_implementation): "
                         "Keras %s takes %s" % (raw, keras.__version__, ", ".join(map(str, lstm_modes_supported()))))
    return int(raw)


def _lstm_mode_kwargs():
    mode = lstm_implementation_requested()
    if mode is None:
        return {}
    return {"consume_less": _CONSUME_LESS[mode]} if MAJOR == 1 else {"implementation": mode}


def lstm_implementation_of(model):
    """The LSTM mode in force in the model's LSTMs, read back from the layers; None without an LSTM."""
    modes = set()
    for layer in _all_layers(model):
        if "LSTM" not in type(layer).__name__:
            continue
        if MAJOR == 1:
            modes.add({v: k for k, v in _CONSUME_LESS.items()}[layer.consume_less])
        else:
            modes.add(int(getattr(getattr(layer, "cell", layer), "implementation")))
    if not modes:
        return None
    in_force = sorted(modes)[0] if len(modes) == 1 else sorted(modes)
    return {"requested": lstm_implementation_requested(), "in_force": in_force,
            "means": LSTM_MODES.get(in_force, "mixed"), "keras": keras.__version__}


def _all_layers(model):
    for layer in getattr(model, "layers", []):
        yield layer
        inner = getattr(layer, "layer", None)  # TimeDistributed, Bidirectional
        if inner is not None:
            yield inner


def LSTM(units, return_sequences=False, **kwargs):
    """An LSTM with the Keras 2.0.8 activations: tanh, and hard_sigmoid = clip(0.2 x + 0.5, 0, 1) for the gates;
    the matrix's implementation mode where it pins one."""
    kwargs.update(_lstm_mode_kwargs())
    if MAJOR == 1:
        return keras.layers.LSTM(output_dim=units, activation="tanh", inner_activation="hard_sigmoid",
                                 init="glorot_uniform", inner_init="orthogonal", forget_bias_init="one",
                                 return_sequences=return_sequences, **kwargs)
    recurrent_activation = "hard_sigmoid" if MAJOR == 2 else keras2_hard_sigmoid
    return keras.layers.LSTM(units, activation="tanh", recurrent_activation=recurrent_activation,
                             kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                             unit_forget_bias=True, return_sequences=return_sequences,
                             unroll=kwargs.pop("unroll", _mxnet_unrolls_rnns()), **kwargs)


def lstm_deviations():
    """What the LSTM cannot match on this generation (recorded in the result's model.deviations)."""
    if MAJOR >= 3:
        return ["LSTM recurrent_activation: Keras 3's 'hard_sigmoid' is relu6(x + 3) / 6; the Keras 2 function "
                "clip(0.2x + 0.5, 0, 1) is passed as a callable instead (same maths, so backends cannot use a "
                "fused cuDNN kernel)"]
    if MAJOR == 1 and backend_name() == "mxnet":
        return ["LSTMs unrolled: Keras 1.2.2's MXNet backend always unrolls RNNs into a static graph over the "
                "fixed sequence length"]
    if _mxnet_unrolls_rnns():
        return ["LSTMs unrolled (unroll=True) over the fixed sequence length, as keras-mxnet recommends; an LSTM "
                "inside TimeDistributed keeps MXNet's foreach loop (unroll=False): keras-mxnet 2.2.4.3 cannot "
                "infer the shapes of an unrolled LSTM there"]
    return []


def _mxnet_unrolls_rnns():
    """keras-mxnet 2 runs RNNs fastest unrolled (a static graph) rather than through MXNet's foreach loop."""
    return MAJOR == 2 and backend_name() == "mxnet"


def needs_fixed_batch():
    """MXNet's Keras backends infer shapes only with a known batch size after an Embedding (Keras 1.2.2) and
    for an unrolled LSTM's initial state (keras-mxnet 2)."""
    return MAJOR < 3 and backend_name() == "mxnet"


def input_deviations(batch_size):
    """What Input(..., batch_size=...) changed on this backend (recorded in model.deviations)."""
    if batch_size and needs_fixed_batch():
        return ["inputs declared with a fixed batch size of %d (batch_shape): MXNet's Keras backends cannot infer "
                "shapes after an Embedding (Keras 1.2.2) or of an unrolled LSTM (keras-mxnet 2) otherwise; the "
                "graph is reshaped for a last, smaller batch" % batch_size]
    return []


def TimeDistributed(layer):
    if _mxnet_unrolls_rnns() and getattr(layer, "unroll", False):
        layer.unroll = False  # keras-mxnet 2.2.4.3 mis-infers shapes of an unrolled RNN in TimeDistributed
    return keras.layers.TimeDistributed(layer)


def Embedding(input_dim, output_dim):
    return keras.layers.Embedding(input_dim, output_dim)


def RepeatVector(n):
    return keras.layers.RepeatVector(n)


def Input(shape, dtype="float32", batch_size=None):
    """A model input; batch_size is used only where the backend needs a fixed one (see needs_fixed_batch)."""
    if MAJOR >= 3:
        return keras.Input(shape=shape, dtype=dtype)
    if batch_size and needs_fixed_batch():
        return keras.layers.Input(batch_shape=(batch_size,) + tuple(shape), dtype=dtype)
    return keras.layers.Input(shape=shape, dtype=dtype)


def add(tensors):
    """Element-wise sum of tensors; Keras 1.2.2 spells it merge(tensors, mode='sum')."""
    if MAJOR == 1:
        return keras.layers.merge(tensors, mode="sum")
    return keras.layers.add(tensors)


def Model(inputs, outputs):
    if MAJOR == 1:
        return keras.models.Model(input=inputs, output=outputs)
    return keras.models.Model(inputs=inputs, outputs=outputs)


def ImageDataGenerator(**kwargs):
    """Keras' real-time augmentation generator, with Keras 2.0.8's nearest-pixel interpolation (order 0).

    Keras 3 keeps the class only under keras.src.legacy; keras_preprocessing (Keras 2.2+) added
    interpolation_order with default 1, which Keras 2.0.8 did not have (it always used order 0).
    Returns (generator, notes).
    """
    notes = []
    if MAJOR < 3:
        from keras.preprocessing.image import ImageDataGenerator as cls
    else:
        try:
            from keras.preprocessing.image import ImageDataGenerator as cls
        except ImportError:
            from keras.src.legacy.preprocessing.image import ImageDataGenerator as cls
            notes.append("Keras 3 has no public ImageDataGenerator: used keras.src.legacy.preprocessing.image."
                         "ImageDataGenerator (the Keras 2 class kept in Keras 3)")
    try:
        return cls(interpolation_order=0, **kwargs), notes
    except TypeError:  # Keras 1.2.2 - 2.1: no such argument, always order 0
        return cls(**kwargs), notes


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
        if backend_name() == "mxnet":
            deviations.append(mxnet_optimizer_deviation(name, hp))
        return cls(**hp), hp, deviations
    kwargs = {k: v for k, v in hp.items() if k not in ("lr", "decay")}
    learning_rate = hp["lr"]
    if name == "rmsprop":
        deviations.append("RMSprop: Keras 3 divides by sqrt(v + epsilon), Keras 2.0.8 by sqrt(v) + epsilon "
                          "(epsilon=%g in both)" % hp["epsilon"])
    if hp.get("decay"):
        # Keras 2: lr / (1 + decay * iterations); Keras 3 has no `decay`: the same inverse-time schedule.
        learning_rate = keras.optimizers.schedules.InverseTimeDecay(
            initial_learning_rate=hp["lr"], decay_steps=1, decay_rate=hp["decay"])
    cls = {"rmsprop": keras.optimizers.RMSprop, "adadelta": keras.optimizers.Adadelta,
           "adam": keras.optimizers.Adam}[name]
    return cls(learning_rate=learning_rate, **kwargs), hp, deviations


# keras-mxnet (1.2.2.1 and 2.2.4.3) replaces Keras' optimizers with MXNet's own (mx.optimizer). What each one
# computes, against Keras 2.0.8 (checked one step at a time on a tiny problem: tests/test_optimizer_arithmetic.py).
MXNET_OPTIMIZERS = {
    "rmsprop": "MXNet's RMSProp: n = rho*n + (1-rho)*g^2, w -= lr*g / sqrt(n + epsilon); Keras 2.0.8 divides by "
               "sqrt(n) + epsilon (as Keras 3 does, the epsilon sits under the root: with epsilon=1e-8 the steps "
               "differ where n is below ~1e-6, i.e. for weights whose gradients stay under ~1e-3)",
    "adadelta": "MXNet's AdaDelta: the same accumulators and step as Keras 2.0.8, but without a learning rate: "
                "lr and decay are ignored (the same arithmetic at the lr=1.0, decay=0 used here)",
    "adam": "MXNet's Adam: the same update as Keras 2.0.8 (m, v, bias-corrected step "
            "lr*sqrt(1-beta_2^t)/(1-beta_1^t), epsilon added to sqrt(v)); MXNet's fused adam_update kernel",
}


def mxnet_optimizer_deviation(name, hp):
    """The model.deviations line for an optimizer keras-mxnet replaced with MXNet's own."""
    text = "%s replaced by MXNet's optimizer (keras-mxnet %s): %s" % (
        {"rmsprop": "RMSprop", "adadelta": "Adadelta", "adam": "Adam"}[name], keras.__version__,
        MXNET_OPTIMIZERS[name])
    if hp.get("decay") and name != "adadelta":
        text += ("; decay: lr / (1 + decay * t) with t counted from 1 (MXNet's num_update), Keras 2.0.8 counts "
                 "iterations from 0")
    return text


# ---------------------------------------------------------------- training

def compile_model(model, loss, opt, metrics=("accuracy",)):
    kwargs = {}
    if MAJOR >= 3:
        kwargs["jit_compile"] = jit_compile_requested()
    context = mxnet_context()
    if context:
        kwargs["context"] = context
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


def fit(model, x, y, batch_size, epochs, validation_data=None, callbacks=None, shuffle=True,
        validation_split=0.0):
    kwargs = {"batch_size": batch_size, "verbose": 0, "callbacks": callbacks or [],
              "validation_data": validation_data, "shuffle": shuffle}
    if validation_split:
        kwargs["validation_split"] = validation_split
    if MAJOR == 1:
        kwargs["nb_epoch"] = epochs
    else:
        kwargs["epochs"] = epochs
    return model.fit(x, y, **kwargs)


# Keras 1/2's fit_generator pulls batches in one background thread into a queue of 10 (Keras 1.2.2:
# max_q_size=10, nb_worker=1, pickle_safe=False; Keras 2: max_queue_size=10, workers=1,
# use_multiprocessing=False), so augmentation overlaps training. Keras 3 pulls a Python generator inline on
# JAX and PyTorch; every Keras 3 backend gets the same thread and queue here (ORCHESTRATE_DATA_FEED=inline
# turns it off, for the before/after measurement in benchmarks/settings_ab.py).
FEED_QUEUE = 10
_FEEDS = ("prefetch", "inline")


def data_feed_requested():
    raw = os.environ.get("ORCHESTRATE_DATA_FEED", "prefetch").strip().lower()
    if raw not in _FEEDS:
        raise ValueError("ORCHESTRATE_DATA_FEED=%r (from the matrix environment's env:) must be one of %s"
                         % (raw, ", ".join(_FEEDS)))
    return raw


def data_feeding():
    """How generator batches reach fit here (recorded in model.hyperparameters.data_feeding)."""
    if MAJOR < 3:
        return {"mode": "background thread", "queue": FEED_QUEUE, "workers": 1,
                "by": "Keras %s fit_generator (its enqueuer, queue and one worker thread set explicitly)"
                      % keras.__version__}
    if data_feed_requested() == "inline":
        return {"mode": "inline", "queue": 0, "workers": 0,
                "by": "Keras %s fit pulling the generator on the training thread" % keras.__version__}
    return {"mode": "background thread", "queue": FEED_QUEUE, "workers": 1,
            "by": "orchestrate's Prefetcher (workloads/compat.py) in front of Keras %s fit" % keras.__version__}


class Prefetcher(object):
    """Batches pulled from an iterator by one background thread into a bounded queue: Keras 1/2's
    GeneratorEnqueuer with one worker, for Keras 3. An exception in the iterator is raised in the consumer."""

    def __init__(self, iterator, depth=FEED_QUEUE):
        self._queue = queue.Queue(maxsize=depth)
        self._thread = threading.Thread(target=self._fill, args=(iterator,), name="orchestrate-prefetch")
        self._thread.daemon = True  # blocked on a full queue when training ends; dies with the process
        self._thread.start()

    def _fill(self, iterator):
        try:
            while True:
                self._queue.put((True, next(iterator)))
        except Exception as exc:  # handed to the consumer, StopIteration included
            self._queue.put((False, exc))

    def __iter__(self):
        return self

    def __next__(self):
        ok, item = self._queue.get()
        if not ok:
            raise item
        return item


def fit_generator(model, generator, steps_per_epoch, epochs, batch_size, validation_data=None, callbacks=None):
    """Train from a generator: fit_generator in Keras 1/2 (Keras 1 counts samples, not steps), fit in Keras 3."""
    kwargs = {"validation_data": validation_data, "callbacks": callbacks or [], "verbose": 0}
    if MAJOR == 1:
        return model.fit_generator(generator, samples_per_epoch=steps_per_epoch * batch_size, nb_epoch=epochs,
                                   max_q_size=FEED_QUEUE, nb_worker=1, pickle_safe=False, **kwargs)
    if MAJOR == 2:
        return model.fit_generator(generator, steps_per_epoch=steps_per_epoch, epochs=epochs,
                                   max_queue_size=FEED_QUEUE, workers=1, use_multiprocessing=False, **kwargs)
    # Keras 3 treats a PyDataset (what flow() returns there) as one finite pass per epoch and stops at its
    # end; Keras 1/2 drew steps_per_epoch batches per epoch from an endless stream. A plain generator keeps that.
    feed = _endless(generator)
    if data_feed_requested() == "prefetch":
        feed = _endless(Prefetcher(feed))
    return model.fit(feed, steps_per_epoch=steps_per_epoch, epochs=epochs, shuffle=False, **kwargs)


def evaluate_generator(model, generator, steps, batch_size):
    """Test metrics from a generator (the 2017 article's evaluate_generator on augmented test batches)."""
    if MAJOR == 1:
        values = model.evaluate_generator(generator, val_samples=steps * batch_size)
    elif MAJOR == 2:
        values = model.evaluate_generator(generator, steps=steps)
    else:
        values = model.evaluate(_endless(generator), steps=steps, verbose=0)
    return _named_metrics(model, values)


def _endless(iterator):
    while True:
        yield next(iterator)


def evaluate(model, x, y, batch_size):
    """Test metrics as a dict with normalised names (loss, accuracy)."""
    return _named_metrics(model, model.evaluate(x, y, batch_size=batch_size, verbose=0))


def _named_metrics(model, values):
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
