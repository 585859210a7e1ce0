"""Entry point inside every environment: read a cell spec, run it, write JSON-lines events.

    python harness.py --spec cell.json --events events.jsonl

Python 3.6+, Keras 1.2.2 / 2.x / 3.x; never imports the orchestrator. Events (one JSON object a line):
start (versions, threads, import time), data (provenance), model (params, hyperparameters, deviations),
compile (Keras 1/2: seconds to build the train/test functions before fit; Theano's C compile),
epoch (index, seconds, loss, accuracy, val metrics), fit (training totals), evaluate (test metrics),
inference (predict throughput: see measure_inference), end (totals), unsupported (reason),
error (type, message, traceback). docs/results-schema.md describes them.
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


class Unsupported(Exception):
    """This backend cannot do what the cell asks; the reason is recorded, not a crash."""


class Events(object):
    """Appends one JSON object per line and flushes it to disk at once."""

    def __init__(self, path):
        self.path = path
        self.fh = open(path, "a")

    def write(self, kind, **fields):
        fields["event"] = kind
        fields["time"] = time.time()
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
        applied["xla_cpu_threads"] = 1 if "xla_cpu_multi_thread_eigen=false" in os.environ.get(
            "XLA_FLAGS", "") else "the cores of the process affinity"
    elif backend == "openvino":
        applied["openvino"] = compat.set_openvino_threads(threads)
    affinity = getattr(os, "sched_getaffinity", None)
    if affinity is not None:
        applied["cpu_affinity"] = len(affinity(0))
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "XLA_FLAGS",
                "MXNET_CPU_WORKER_NTHREADS", "OMP_WAIT_POLICY", "KMP_BLOCKTIME", "KMP_AFFINITY",
                "TF_CUDNN_USE_AUTOTUNE", "MXNET_CUDNN_AUTOTUNE_DEFAULT", "TF_ENABLE_ONEDNN_OPTS"):
        if var in os.environ:
            applied[var] = os.environ[var]
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
            events.write("epoch", **fields)

    return EpochTimer()


def run(spec, events):
    if spec.get("api") == "native":
        return run_native(spec, events)
    import numpy  # noqa: F401  (imported before Keras so its import time is not counted as Keras')
    t0 = time.perf_counter()
    import compat
    import_s = time.perf_counter() - t0
    compat.set_seed(spec["seed"])
    threads = configure_threads(spec["threads"])
    events.write("start", versions=versions(compat), threads=threads, import_s=import_s,
                 image_data_format=compat.image_data_format(), backend=compat.backend_name())

    workload = importlib.import_module(spec["workload"])
    check_keras_generation(spec, workload, compat)
    t0 = time.perf_counter()
    data, info = workload.load(spec)
    info["seconds"] = time.perf_counter() - t0
    events.write("data", **info)

    t0 = time.perf_counter()
    model, model_info = workload.build(spec, data)
    jit = compat.jit_compile_of(model)
    if jit is not None:
        model_info.setdefault("hyperparameters", {})["jit_compile"] = jit
    model_info.setdefault("hyperparameters", {})["floatx"] = compat.keras.backend.floatx()
    lstm = compat.lstm_implementation_of(model)
    if lstm is not None:
        model_info.setdefault("hyperparameters", {})["lstm_implementation"] = lstm
    events.write("model", params=int(model.count_params()), seconds=time.perf_counter() - t0, **model_info)

    if "train" not in spec.get("capabilities", ["train"]):
        # Inference on the freshly built model first, then say why training is unsupported.
        run_inference(spec, events, workload, model, data, trained=False)
        raise Unsupported(training_unsupported_reason(spec, compat, model, data))
    compiled = compat.make_functions(model)
    if compiled is not None:  # Keras 1/2 build (Theano: compile to C) the train/test functions before fit
        events.write("compile", **compiled)
    timer = make_epoch_timer(events, compat)
    t0 = time.perf_counter()
    fit = getattr(workload, "fit", None)
    if fit is not None:
        fit(spec, model, data, [timer])
    else:
        compat.fit(model, data["x_train"], data["y_train"], spec["batch_size"], spec["epochs"],
                   validation_data=(data["x_test"], data["y_test"]), callbacks=[timer])
    totals = {"fit_s": time.perf_counter() - t0, "train_samples_per_epoch": train_samples_per_epoch(spec, data)}
    events.write("fit", **totals)

    t0 = time.perf_counter()
    evaluate = getattr(workload, "evaluate", None)
    metrics = evaluate(spec, model, data) if evaluate else compat.evaluate(
        model, data["x_test"], data["y_test"], spec["batch_size"])
    events.write("evaluate", metrics=metrics, seconds=time.perf_counter() - t0)
    run_inference(spec, events, workload, model, data, trained=True)
    events.write("end", **totals)


def check_keras_generation(spec, workload, compat):
    """A workload written for a later Keras (KERAS_MIN, e.g. text_transformer's 3) is unsupported on an older one."""
    needed = getattr(workload, "KERAS_MIN", 1)
    if compat.MAJOR < needed:
        raise Unsupported("%s needs Keras %d or later; this environment has Keras %s"
                          % (spec["workload"], needed, compat.keras.__version__))


def run_native(spec, events):
    """A workload written in the framework's own API (workloads/native/, native environments only): the same
    events, from native/runner.py. Imported here only, so Keras environments (Python 3.6 too) never load it."""
    from native import runner
    runner.run(spec, events)


def run_inference(spec, events, workload, model, data, trained):
    """The inference phase: predict throughput on the test set (a workload may name other inputs)."""
    inputs = getattr(workload, "inference_inputs", None)
    x = inputs(spec, data) if inputs else data["x_test"]
    results = measure_inference(model, x, int(spec["batch_size"]), INFERENCE_MAX_S)
    results["trained"] = trained
    results["data"] = "test set"
    settings = compat_module().inference_settings(model)
    if settings:
        results["backend_settings"] = settings
    events.write("inference", results=results)
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
    declared = "the environment's capabilities are %s (no train)" % spec.get("capabilities")
    x, y = data.get("x_train"), data.get("y_train")
    if x is None or y is None:
        return "%s backend: training skipped: %s" % (compat.backend_name(), declared)
    batch = min(int(spec["batch_size"]), num_samples(x))
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
    if spec.get("steps_per_epoch"):
        return spec["steps_per_epoch"] * spec["batch_size"]
    x = data.get("x_train")
    if isinstance(x, (list, tuple)):
        x = x[0]
    return int(len(x)) if x is not None else None


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
    for folder in spec.get("workload_dirs", []):  # the matrix's extra workloads (after the project's own)
        if folder not in sys.path:
            sys.path.append(folder)
    events = Events(args.events)
    try:
        run(spec, events)
    except Unsupported as exc:
        events.write("unsupported", reason=str(exc))
        return 0
    except Exception as exc:  # reported as an event; the host turns it into a failed CellResult
        events.write("error", type=type(exc).__name__, message=str(exc),
                     traceback="".join(traceback.format_exc()[-6000:]))
        traceback.print_exc()
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
