"""Entry point inside every environment: read a cell spec, run it, write JSON-lines events.

    python harness.py --spec cell.json --events events.jsonl

Python 3.6+, Keras 1.2.2 / 2.x / 3.x; never imports the orchestrator. Events (one JSON object a line):
start (versions, threads, import time), data (provenance), model (params, hyperparameters, deviations),
compile (Keras 1/2: seconds to build the train/test functions before fit; Theano's C compile),
epoch (index, seconds, loss, accuracy, val metrics), evaluate (test metrics), end (totals),
unsupported (reason), error (type, message, traceback). docs/results-schema.md describes them.
"""

import argparse
import importlib
import json
import os
import platform
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
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
    """Apply the cell's thread count to the framework (env vars are set by the host before start)."""
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
        applied["torch_threads"] = torch.get_num_threads()
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "XLA_FLAGS",
                "MXNET_CPU_WORKER_NTHREADS", "OMP_WAIT_POLICY", "KMP_BLOCKTIME"):
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
    import numpy  # noqa: F401  (imported before Keras so its import time is not counted as Keras')
    t0 = time.perf_counter()
    import compat
    import_s = time.perf_counter() - t0
    compat.set_seed(spec["seed"])
    threads = configure_threads(spec["threads"])
    events.write("start", versions=versions(compat), threads=threads, import_s=import_s,
                 image_data_format=compat.image_data_format(), backend=compat.backend_name())

    workload = importlib.import_module(spec["workload"])
    t0 = time.perf_counter()
    data, info = workload.load(spec)
    info["seconds"] = time.perf_counter() - t0
    events.write("data", **info)

    t0 = time.perf_counter()
    model, model_info = workload.build(spec, data)
    events.write("model", params=int(model.count_params()), seconds=time.perf_counter() - t0, **model_info)

    if "train" not in spec.get("capabilities", ["train"]):
        raise Unsupported("backend %s cannot train (inference only)" % compat.backend_name())
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
    fit_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    evaluate = getattr(workload, "evaluate", None)
    metrics = evaluate(spec, model, data) if evaluate else compat.evaluate(
        model, data["x_test"], data["y_test"], spec["batch_size"])
    events.write("evaluate", metrics=metrics, seconds=time.perf_counter() - t0)
    events.write("end", fit_s=fit_s, train_samples_per_epoch=train_samples_per_epoch(spec, data))


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
