"""Entry point inside every environment: read a cell spec, run it, write JSON-lines events.

    python harness.py --spec cell.json --events events.jsonl

Python 3.6+, Keras 1.2.2 / 2.x / 3.x; never imports the orchestrator. Events (one JSON object a line):
start (versions, threads, import time), data (provenance), model (params, hyperparameters, deviations),
compile (Keras 1/2: seconds to build the train/test functions before fit; Theano's C compile),
equivalence (Keras 3: outputs, loss and gradient norm on reference weights, before fit; equivalence.py),
epoch (index, seconds, loss, accuracy, val metrics), fit (training totals), settings (after fit: matmul
precision / TF32, steps_per_execution, torch.compile counters; settings_probe.py), evaluate (test metrics),
inference (predict throughput: see measure_inference), end (totals), unsupported (reason),
error (type, message, traceback). docs/results-schema.md describes them; protocol.py (beside this file) names
the spec's keys, the event kinds and the thread variables for both sides.
"""

import argparse
import importlib
import json
import os
import platform
import statistics
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
INFERENCE_MAX_S = 30.0  # timed predict batches stop after this many seconds (at least 3 batches)
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from protocol import (API_NATIVE, CAPABILITY_TRAIN, EVENT_FIELD, INFERENCE_PHASES, TIME_FIELD,  # noqa: E402
                      XLA_FLAGS, XLA_SINGLE_THREADED, Event, Spec, read_back)
import settings_probe  # noqa: E402


class Unsupported(Exception):
    """This backend cannot do what the cell asks; the reason is recorded, not a crash."""


class Events(object):
    """Appends one JSON object per line and flushes it to disk at once."""

    def __init__(self, path):
        self.path = path
        self.fh = open(path, "a")

    def write(self, kind, **fields):
        fields[EVENT_FIELD] = kind
        fields[TIME_FIELD] = time.time()
        self.fh.write(json.dumps(fields, default=_jsonable) + "\n")
        self.fh.flush()
        os.fsync(self.fh.fileno())


def _jsonable(value):
    try:
        return value.item()  # numpy scalars
    except AttributeError:
        return str(value)


def configure_threads(threads):
    """Apply the cell's thread count to the framework and record what it reports back.

    The host sets OMP_NUM_THREADS, MKL_NUM_THREADS, TF_NUM_*_THREADS (and XLA_FLAGS for one thread on JAX)
    before the process starts; here the frameworks' own knobs are set and read back.
    """
    import compat
    applied = {"requested": threads}
    backend = compat.backend_name()
    if backend == "tensorflow":
        import tensorflow as tf
        if hasattr(tf, "config") and hasattr(tf.config, "threading"):
            try:
                tf.config.threading.set_intra_op_parallelism_threads(threads)
                tf.config.threading.set_inter_op_parallelism_threads(threads)
            except RuntimeError:
                pass
            applied["tf_intra_op"] = tf.config.threading.get_intra_op_parallelism_threads()
            applied["tf_inter_op"] = tf.config.threading.get_inter_op_parallelism_threads()
        elif compat.MAJOR < 3:
            config = tf.ConfigProto(intra_op_parallelism_threads=threads, inter_op_parallelism_threads=threads)
            compat.keras.backend.set_session(tf.Session(config=config))
            applied["tf_intra_op"] = threads
            applied["tf_inter_op"] = threads
        applied.update(compat.tf1_session_threads())
    elif backend in ("cntk", "theano", "mxnet"):
        applied.update(compat.configure_legacy_threads(threads))
    elif backend == "torch":
        import torch
        torch.set_num_threads(threads)
        try:
            torch.set_num_interop_threads(threads)
        except RuntimeError:  # only settable before the first inter-op work
            pass
        if torch.cuda.is_available():  # cuDNN autotune on GPU (Keras 3 leaves torch's default, off)
            torch.backends.cudnn.benchmark = True
        applied["torch_cudnn_benchmark"] = bool(torch.backends.cudnn.benchmark)
        applied["torch_threads"] = torch.get_num_threads()
        applied["torch_interop_threads"] = torch.get_num_interop_threads()
    elif backend == "jax":
        # XLA's CPU thread pool has no size knob: it spans the cores this process may use, except that
        # XLA_FLAGS (set by the host for one thread) turns the multi-threaded Eigen path off.
        applied["xla_cpu_threads"] = 1 if XLA_SINGLE_THREADED in os.environ.get(
            XLA_FLAGS, "") else "the cores of the process affinity"
    elif backend == "openvino":
        applied["openvino"] = compat.set_openvino_threads(threads)
    affinity = getattr(os, "sched_getaffinity", None)
    if affinity is not None:
        applied["cpu_affinity"] = len(affinity(0))
    applied.update(read_back(os.environ))  # the thread variables and other threading knobs, where set
    return applied


def make_epoch_timer(events, compat):
    class EpochTimer(compat.Callback):
        """Wall time of each epoch, validation included (as the 2017 article timed whole fits)."""

        def on_epoch_begin(self, epoch, logs=None):
            self.t0 = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            seconds = time.perf_counter() - self.t0
            fields = {"epoch": int(epoch) + 1, "seconds": seconds}
            for key, value in (logs or {}).items():
                try:
                    fields[compat.normalise_metric(key)] = float(value)
                except (TypeError, ValueError):
                    pass
            events.write(Event.EPOCH, **fields)

    return EpochTimer()


# Set by warm_parent.py in a forked child: the parent that imported the framework (its pid, import seconds, children
# before this one, its PYTHONHASHSEED); recorded in the start event. None: a fresh process.
WARM_START = None


def run(spec, events):
    if spec.get(Spec.API) == API_NATIVE:
        return run_native(spec, events)
    import numpy  # noqa: F401  (imported before Keras so its import time is not counted as Keras')
    t0 = time.perf_counter()
    import compat
    import_s = time.perf_counter() - t0
    compat.set_seed(spec[Spec.SEED])
    threads = configure_threads(spec[Spec.THREADS])
    warm = {"warm_start": WARM_START} if WARM_START else {}
    events.write(Event.START, versions=versions(compat), threads=threads, import_s=import_s,
                 image_data_format=compat.image_data_format(), backend=compat.backend_name(), **warm)

    workload = load_workload(spec, compat, events)
    check_keras_generation(spec, workload, compat)
    t0 = time.perf_counter()
    data, info = workload.load(spec)
    info["seconds"] = time.perf_counter() - t0
    events.write(Event.DATA, **info)

    t0 = time.perf_counter()
    model, model_info = workload.build(spec, data)
    jit = compat.jit_compile_of(model)
    if jit is not None:
        model_info.setdefault("hyperparameters", {})["jit_compile"] = jit
    model_info.setdefault("hyperparameters", {})["floatx"] = compat.keras.backend.floatx()
    if compat.MAJOR >= 3:
        model_info["hyperparameters"]["dtype_policy"] = compat.keras.mixed_precision.global_policy().name
    lstm = compat.lstm_implementation_of(model)
    if lstm is not None:
        model_info.setdefault("hyperparameters", {})["lstm_implementation"] = lstm
    events.write(Event.MODEL, params=int(model.count_params()), seconds=time.perf_counter() - t0, **model_info)

    if CAPABILITY_TRAIN not in spec.get(Spec.CAPABILITIES, [CAPABILITY_TRAIN]):
        # Inference on the freshly built model first, then say why training is unsupported.
        run_inference(spec, events, workload, model, data, trained=False)
        events.write(Event.DEVICE, framework=framework_device(compat.backend_name(), model))
        raise Unsupported(training_unsupported_reason(spec, compat, model, data))
    if compat.MAJOR >= 3 and spec.get(Spec.CHECK_EQUIVALENCE, True):  # the same computation on every backend,
        import equivalence  # checked before timing (equivalence.py), on repeat 0
        events.write(Event.EQUIVALENCE, **equivalence.check(spec, model, data, workload, compat,
                                                            os.path.dirname(os.path.abspath(events.path))))
    compiled = compat.make_functions(model)
    if compiled is not None:  # Keras 1/2 build (Theano: compile to C) the train/test functions before fit
        events.write(Event.COMPILE, **compiled)
    timer = make_epoch_timer(events, compat)
    t0 = time.perf_counter()
    fit = getattr(workload, "fit", None)
    if fit is not None:
        fit(spec, model, data, [timer])
    else:
        compat.fit(model, data["x_train"], data["y_train"], spec[Spec.BATCH_SIZE], spec[Spec.EPOCHS],
                   validation_data=(data["x_test"], data["y_test"]), callbacks=[timer])
    totals = {"fit_s": time.perf_counter() - t0, "train_samples_per_epoch": train_samples_per_epoch(spec, data)}
    events.write(Event.FIT, **totals)
    events.write(Event.SETTINGS, **settings_probe.after_fit(compat.backend_name(), model))  # TF32, recompiles...
    events.write(Event.DEVICE, framework=framework_device(compat.backend_name(), model))

    t0 = time.perf_counter()
    evaluate = getattr(workload, "evaluate", None)
    metrics = evaluate(spec, model, data) if evaluate else compat.evaluate(
        model, data["x_test"], data["y_test"], spec[Spec.BATCH_SIZE])
    events.write(Event.EVALUATE, metrics=metrics, seconds=time.perf_counter() - t0)
    if judges_inference(spec):
        run_inference(spec, events, workload, model, data, trained=True)
    events.write(Event.END, **totals)


def judges_inference(spec):
    """Whether the profile judges a phase the inference phase measures (absent Spec.PHASES: yes)."""
    phases = spec.get(Spec.PHASES)
    return phases is None or any(p in INFERENCE_PHASES for p in phases)


def framework_device(backend, model=None):
    """Where the framework says the model ran: its first weight's device and the accelerators it sees.

    kind is "gpu", "cpu" or "unknown" (a backend that does not say). Never raises: a probe that fails is
    recorded with its error, so the result still says what is known.
    """
    probes = {"torch": _torch_devices, "jax": _jax_devices, "tensorflow": _tf_devices,
              "theano": _theano_devices, "cntk": _cntk_devices, "mxnet": _mxnet_devices}
    found = {"backend": backend}
    try:
        found.update(probes.get(backend, lambda: {})())
    except Exception as exc:  # an old or odd build: say so instead of failing the cell
        found["error"] = "%s: %s" % (type(exc).__name__, exc)
    weight = _first_weight_device(model)
    if weight is not None:
        found["weight_device"] = weight
    found["kind"] = _device_kind(weight if weight is not None else found.get("default_device"))
    return found


def _device_kind(text):
    text = str(text or "").lower()
    if "cuda" in text or "gpu" in text:
        return "gpu"
    if "cpu" in text:
        return "cpu"
    return "unknown"


def _first_weight_device(model):
    """The device of the model's first weight as the framework names it (None when it does not say)."""
    try:
        value = model.weights[0]
        inner = getattr(value, "value", None)  # Keras 3 variables wrap the backend's array (tf.Variable.value
        if inner is not None and not callable(inner):  # is a method: the variable itself has the device)
            value = inner
        if callable(getattr(value, "devices", None)):  # a JAX array
            return ",".join(sorted(str(d) for d in value.devices()))
        device = getattr(value, "device", None)
        return None if device in (None, "") else str(device)
    except Exception:
        return None


def _torch_devices():
    import torch
    cuda = torch.cuda.is_available()
    return {"cuda_available": cuda, "default_device": "cuda" if cuda else "cpu",
            "devices": [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())] if cuda else []}


def _jax_devices():
    import jax
    return {"default_device": jax.default_backend(), "devices": [str(d) for d in jax.devices()]}


def _tf_devices():
    import tensorflow as tf
    if hasattr(tf, "config") and hasattr(tf.config, "list_physical_devices"):
        gpus = [d.name for d in tf.config.list_physical_devices("GPU")]
    else:  # TF 1.x
        from tensorflow.python.client import device_lib
        gpus = [d.name for d in device_lib.list_local_devices() if d.device_type == "GPU"]
    return {"visible_gpus": gpus, "default_device": "gpu" if gpus else "cpu"}


def _theano_devices():
    import theano
    return {"default_device": str(theano.config.device)}


def _cntk_devices():
    import cntk
    kind = cntk.device.use_default_device().type()  # DeviceKind: 0 = CPU, 1 = GPU
    return {"default_device": {0: "cpu", 1: "gpu"}.get(int(kind), str(kind))}


def _mxnet_devices():
    import mxnet
    gpus = mxnet.context.num_gpus() if hasattr(mxnet.context, "num_gpus") else 0
    return {"default_device": "gpu" if gpus else "cpu", "visible_gpus": gpus}


def load_workload(spec, compat, events=None):
    """A built-in workload by module name, or a user's model file by path (the spec's script)."""
    apply_mixed_precision(compat)
    if spec.get(Spec.SCRIPT):
        return UserWorkload(spec[Spec.SCRIPT], compat, events)
    return importlib.import_module(spec[Spec.WORKLOAD])


def apply_mixed_precision(compat):
    """A configuration's dtype policy (ORCHESTRATE_MIXED_PRECISION, e.g. mixed_bfloat16), set before any model is
    built (Keras 3 only); the policy in force is recorded with the model's hyperparameters (dtype_policy)."""
    policy = os.environ.get("ORCHESTRATE_MIXED_PRECISION")
    if policy and compat.MAJOR >= 3:
        compat.keras.mixed_precision.set_global_policy(policy)


class UserModelError(Exception):
    """A user's model file broke the workload contract or raised; the message names file, function, backend."""


class UserWorkload(object):
    """A user's model file with the built-in workloads' contract, every call checked and its errors named.

    load(spec) -> (data, info) or data; build(spec, data) -> compiled model or (model, info); optional
    fit(spec, model, data, callbacks), evaluate(spec, model, data), inference_inputs(spec, data). Training
    stops with a named error when the loss is no longer finite (docs/your-model.md).
    """

    def __init__(self, path, compat, events=None):
        self.path = path
        self.compat = compat
        self.events = events
        self.backend = compat.backend_name()
        self.module = self._import()
        for name in ("evaluate", "inference_inputs"):
            if callable(getattr(self.module, name, None)):
                setattr(self, name, self._wrapped(name))

    def where(self, function):
        return "%s: %s() on the %s backend" % (self.path, function, self.backend)

    def _import(self):
        import importlib.util
        if not os.path.isfile(self.path):
            raise UserModelError("%s: model file not found where the cell runs (%s backend)" % (self.path, self.backend))
        name = os.path.splitext(os.path.basename(self.path))[0]
        module_spec = importlib.util.spec_from_file_location(name, self.path)
        module = importlib.util.module_from_spec(module_spec)
        try:
            module_spec.loader.exec_module(module)
        except SyntaxError as exc:
            raise UserModelError("%s:%s: syntax error: %s" % (self.path, exc.lineno, exc.msg)) from exc
        except Exception as exc:
            raise UserModelError("%s: importing the file raised %s: %s (%s backend)"
                                 % (self.path, type(exc).__name__, exc, self.backend)) from exc
        for function in ("load", "build"):
            if not callable(getattr(module, function, None)):
                raise UserModelError("%s defines no %s function: a model file needs load(spec) and build(spec, "
                                     "data) (docs/your-model.md)" % (self.path, function))
        return module

    def _call(self, function, *args):
        try:
            return getattr(self.module, function)(*args)
        except UserModelError:
            raise
        except Exception as exc:
            raise UserModelError("%s raised %s: %s" % (self.where(function), type(exc).__name__, exc)) from exc

    def _wrapped(self, function):
        return lambda *args: self._call(function, *args)

    def load(self, spec):
        result = self._call("load", spec)
        data, info = result if isinstance(result, tuple) and len(result) == 2 else (result, {})
        if not isinstance(data, dict):
            raise UserModelError("%s returned %s: return (data, info) with data a dict of arrays (x_train, y_train, "
                                 "x_test, y_test)" % (self.where("load"), type(data).__name__))
        info = dict(info or {})
        if info.get("source") not in ("real", "synthetic"):
            info.setdefault("notes", []).append("load() did not record its data's source (info['source'] = "
                                                "'real' or 'synthetic')")
            info["source"] = None
        info.setdefault("dataset", os.path.basename(self.path))
        return data, info

    def build(self, spec, data):
        result = self._call("build", spec, data)
        model, info = result if isinstance(result, tuple) and len(result) == 2 else (result, {})
        if not (hasattr(model, "fit") and hasattr(model, "predict_on_batch") and hasattr(model, "count_params")):
            raise UserModelError("%s returned %s, not a Keras model: return a compiled keras.Model (or (model, info))"
                                 % (self.where("build"), type(model).__name__))
        if getattr(model, "compiled", True) is False or getattr(model, "optimizer", True) is None:
            raise UserModelError("%s returned a model that is not compiled: call model.compile(optimizer=..., "
                                 "loss=..., metrics=['accuracy']) before returning it" % self.where("build"))
        try:
            model.count_params()
        except ValueError as exc:
            raise UserModelError("%s returned a model that is not built (%s): give it a keras.Input or call "
                                 "model.build(input_shape)" % (self.where("build"), exc)) from exc
        info = dict(info or {})
        info.setdefault("hyperparameters", {})
        info.setdefault("deviations", [])
        jit = self.compat.jit_compile_requested()
        if jit != "auto":  # a configuration's jit_compile, over what the file compiled with
            model.jit_compile = jit
        return model, info

    def fit(self, spec, model, data, callbacks):
        callbacks = list(callbacks) + [make_finite_loss(self)]
        if self.events is not None:
            callbacks.append(make_step_timer(self.events, self.compat))
        if callable(getattr(self.module, "fit", None)):
            return self._call("fit", spec, model, data, callbacks)
        try:
            return self.compat.fit(model, data["x_train"], data["y_train"], spec[Spec.BATCH_SIZE], spec[Spec.EPOCHS],
                                   validation_data=(data["x_test"], data["y_test"]), callbacks=callbacks)
        except UserModelError:
            raise
        except Exception as exc:
            raise UserModelError("%s: model.fit on the %s backend raised %s: %s"
                                 % (self.path, self.backend, type(exc).__name__, exc)) from exc


def make_step_timer(events, compat):
    """fit ms/step as keras-benchmarks defines it: wall time from the start of the second step to the end of
    the last, divided by the steps counted (the first step, which carries tracing and compilation, left out);
    over every epoch, each epoch's span counted from its first step to its last (validation left out)."""

    class StepTimer(compat.Callback):
        def on_train_begin(self, logs=None):
            self.epochs = []

        def on_epoch_begin(self, epoch, logs=None):
            self.epochs.append([])

        def on_train_batch_begin(self, batch, logs=None):
            self.begin = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            if self.epochs:
                self.epochs[-1].append((self.begin, time.perf_counter()))

        def on_train_end(self, logs=None):
            total, steps = 0.0, 0
            for i, spans in enumerate(self.epochs):
                counted = spans[1:] if i == 0 else spans
                if counted:
                    total += counted[-1][1] - counted[0][0]
                    steps += len(counted)
            first = self.epochs[0][0] if self.epochs and self.epochs[0] else None
            events.write(Event.STEPS, fit_ms_per_step=1000.0 * total / steps if steps else None, steps_timed=steps,
                         first_step_ms=1000.0 * (first[1] - first[0]) if first else None)

    return StepTimer()


def make_finite_loss(user):
    """A callback that stops training with a named error once the loss is NaN or infinite."""
    import math

    class FiniteLoss(user.compat.Callback):
        def on_epoch_end(self, epoch, logs=None):
            loss = (logs or {}).get("loss")
            if loss is not None and not math.isfinite(float(loss)):
                raise UserModelError("%s: the loss became %s in epoch %d on the %s backend (a learning rate too "
                                     "high, a log of 0, a division by 0?)" % (user.path, float(loss), epoch + 1,
                                                                             user.backend))

    return FiniteLoss()
def check_keras_generation(spec, workload, compat):
    """A workload written for a later Keras (KERAS_MIN, e.g. text_transformer's 3) is unsupported on an older one."""
    needed = getattr(workload, "KERAS_MIN", 1)
    if compat.MAJOR < needed:
        raise Unsupported("%s needs Keras %d or later; this environment has Keras %s"
                          % (spec[Spec.WORKLOAD], needed, compat.keras.__version__))


def run_native(spec, events):
    """A workload written in the framework's own API (workloads/native/, native environments only): the same
    events, from native/runner.py. Imported here only, so Keras environments (Python 3.6 too) never load it."""
    from native import runner
    runner.run(spec, events, describe_device=framework_device)


def run_inference(spec, events, workload, model, data, trained):
    """The inference phase: predict throughput on the test set (a workload may name other inputs)."""
    inputs = getattr(workload, "inference_inputs", None)
    x = inputs(spec, data) if inputs else data["x_test"]
    results = measure_inference(model, x, int(spec[Spec.BATCH_SIZE]), INFERENCE_MAX_S)
    results["trained"] = trained
    results["data"] = "test set"
    settings = compat_module().inference_settings(model)
    if settings:
        results["backend_settings"] = settings
    events.write(Event.INFERENCE, results=results)
    return results


def measure_inference(model, x, batch_size, max_seconds=30.0):
    """Steady-state predict throughput: one warm-up batch, then full batches timed one by one.

    x is an array or a list of arrays (multi-input models). The warm-up batch carries tracing and
    compilation (XLA, OpenVINO); only full batches are timed, so no new input shape is compiled mid-way.
    Stops after max_seconds of timed batches (at least 3 batches where the data has them).
    """
    n = num_samples(x)
    if n < 1:
        raise ValueError("the inference phase has no test samples")
    batch_size = min(batch_size, n)
    t0 = time.perf_counter()
    model.predict_on_batch(take(x, 0, batch_size))
    warmup_s = time.perf_counter() - t0
    batch_s = []
    for i in range(n // batch_size):
        batch = take(x, i * batch_size, (i + 1) * batch_size)
        t0 = time.perf_counter()
        model.predict_on_batch(batch)
        batch_s.append(time.perf_counter() - t0)
        if len(batch_s) >= 3 and sum(batch_s) >= max_seconds:
            break
    seconds = sum(batch_s)
    samples = len(batch_s) * batch_size
    return {
        "samples_per_s": samples / seconds if seconds > 0 else None,
        "batch_size": batch_size,
        "warmup_s": warmup_s,
        "batches": len(batch_s),
        "samples": samples,
        "seconds": seconds,
        "median_batch_s": statistics.median(batch_s),
        "batch_s": [round(t, 6) for t in batch_s],
        "method": "predict_on_batch",
        "truncated": samples < (n // batch_size) * batch_size,
    }


def compat_module():
    import compat
    return compat


def num_samples(x):
    if isinstance(x, dict):
        x = list(x.values())
    if isinstance(x, (list, tuple)):
        x = x[0]
    return int(len(x))


def take(x, start, stop):
    """Rows start:stop of an array, a list of arrays or a dict of arrays (views, no copies)."""
    if isinstance(x, dict):
        return dict((k, v[start:stop]) for k, v in x.items())
    if isinstance(x, (list, tuple)):
        return [v[start:stop] for v in x]
    return x[start:stop]


def training_unsupported_reason(spec, compat, model, data):
    """Why this environment does not train: the backend's own answer to a one-batch fit, where it gives one."""
    declared = "the environment's capabilities are %s (no train)" % spec.get(Spec.CAPABILITIES)
    x, y = data.get("x_train"), data.get("y_train")
    if x is None or y is None:
        return "%s backend: training skipped: %s" % (compat.backend_name(), declared)
    batch = min(int(spec[Spec.BATCH_SIZE]), num_samples(x))
    try:
        compat.fit(model, take(x, 0, batch), take(y, 0, batch), batch, 1)
    except NotImplementedError as exc:
        return "%s backend cannot train: %s" % (compat.backend_name(), exc)
    except Exception as exc:  # the backend failed differently: still its reason
        return "%s backend cannot train: %s: %s" % (compat.backend_name(), type(exc).__name__, exc)
    return "%s backend: training skipped: %s (a one-batch fit did run)" % (compat.backend_name(), declared)


def train_samples_per_epoch(spec, data):
    if data.get("samples_per_epoch"):  # set by a workload that trains on part of x_train (validation_split)
        return int(data["samples_per_epoch"])
    if spec.get(Spec.STEPS_PER_EPOCH):
        return spec[Spec.STEPS_PER_EPOCH] * spec[Spec.BATCH_SIZE]
    x = data.get("x_train")
    return num_samples(x) if x is not None else None  # an array, a list or a dict of arrays


def versions(compat):
    import numpy
    return {
        "python": platform.python_version(),
        "keras": compat.keras.__version__,
        "backend": compat.backend_name(),
        "backend_version": compat.backend_version(),
        "numpy": numpy.__version__,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", required=True)
    parser.add_argument("--events", required=True)
    args = parser.parse_args(argv)
    with open(args.spec) as fh:
        spec = json.load(fh)
    for folder in spec.get(Spec.WORKLOAD_DIRS, []):  # the matrix's extra workloads (after the project's own)
        if folder not in sys.path:
            sys.path.append(folder)
    events = Events(args.events)
    try:
        run(spec, events)
    except Unsupported as exc:
        events.write(Event.UNSUPPORTED, reason=str(exc))
        return 0
    except Exception as exc:  # reported as an event; the host turns it into a failed CellResult
        events.write(Event.ERROR, type=type(exc).__name__, message=str(exc),
                     traceback="".join(traceback.format_exc()[-6000:]))
        traceback.print_exc()
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
