"""Settings that silently differ between backends, read back inside the cell after training.

    events.write(Event.SETTINGS, **settings_probe.after_fit(backend, model))

What a "backend X is slow" report is often about: float32 matmul precision (TF32 allowed on one backend, not on
another), Keras' steps_per_execution, and torch.compile recompiling or breaking its graph during fit (only known
after training, hence after fit). Plain Python 3.6, no Keras import (native environments use it too); every probe
is defensive: what cannot be read is recorded in "errors" with the exception, never raised.
docs/backend-settings.md says what is recorded and when the report flags it.
"""

import collections
import os
import sys
import warnings

TORCH_COMPILE_VAR = "ORCHESTRATE_TORCH_COMPILE"  # native-torch-compile: the native model under torch.compile
GRAPH_BREAK_REASONS = 3  # graph-break reasons kept (the most frequent), each cut to REASON_CHARS
REASON_CHARS = 200


def after_fit(backend, model=None):
    """{"matmul": {...}, "steps_per_execution": int (Keras), "torch_compile": {...} (torch), "errors": {...}}."""
    errors = {}
    found = {"matmul": _guarded(errors, "matmul", matmul_precision, backend) or {"framework": backend}}
    steps = _guarded(errors, "steps_per_execution", steps_per_execution, model)
    if steps is not None:
        found["steps_per_execution"] = steps
    if backend == "torch":
        found["torch_compile"] = _guarded(errors, "torch_compile", torch_compile_stats, model) or {}
    if errors:
        found["errors"] = errors
    return found


def _guarded(errors, name, probe, *args):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # deprecated flags (torch's allow_tf32) still say what is in force
            return probe(*args)
    except Exception as exc:  # an old or odd build: record "unknown" with the reason
        errors[name] = "unknown: %s: %s" % (type(exc).__name__, exc)
        return None


# ---------------------------------------------------------------- float32 matmul precision / TF32

def matmul_precision(backend):
    """The framework's float32 matmul / convolution precision: tf32_matmul and tf32_conv say whether float32
    products may run in TF32 (or lower) on a GPU that has it; device and compute_capability say where it ran."""
    probe = {"torch": _torch_precision, "tensorflow": _tf_precision, "jax": _jax_precision}.get(backend)
    if probe is None:
        return {"framework": backend, "tf32_matmul": None, "tf32_conv": None,
                "note": "no float32 matmul precision setting read on %s" % backend}
    found = {"framework": backend}
    found.update(probe())
    return found


def _torch_precision():
    import torch
    found = {}
    precision = torch.get_float32_matmul_precision()
    found["float32_matmul_precision"] = precision
    matmul = getattr(getattr(torch.backends, "cuda", None), "matmul", None)
    allow = getattr(matmul, "allow_tf32", None)
    if allow is not None:
        found["cuda_matmul_allow_tf32"] = bool(allow)
    cudnn = getattr(torch.backends.cudnn, "allow_tf32", None)
    if cudnn is not None:
        found["cudnn_allow_tf32"] = bool(cudnn)
    found["tf32_matmul"] = precision in ("high", "medium") or bool(allow)
    found["tf32_conv"] = bool(cudnn) if cudnn is not None else None
    cuda = torch.cuda.is_available()
    found["device"] = "gpu" if cuda else "cpu"
    if cuda:
        major, minor = torch.cuda.get_device_capability(0)
        found["compute_capability"] = "%d.%d" % (major, minor)
    return found


def _tf_precision():
    import tensorflow as tf
    experimental = getattr(getattr(tf, "config", None), "experimental", None)
    enabled = getattr(experimental, "tensor_float_32_execution_enabled", None)
    if enabled is None:  # TensorFlow before 2.4 (CUDA 10): no TF32 switch
        found = {"tensor_float_32_execution": None, "tf32_matmul": None, "tf32_conv": None,
                 "note": "TensorFlow %s has no tensor_float_32_execution_enabled (added in 2.4)" % tf.__version__}
    else:
        on = bool(enabled())
        found = {"tensor_float_32_execution": on, "tf32_matmul": on, "tf32_conv": on}
    lister = getattr(getattr(tf, "config", None), "list_physical_devices", None) or getattr(
        experimental, "list_physical_devices", None)  # TF 1.14-2.0: only tf.config.experimental's
    if lister is None:
        return found  # where it ran: unknown here (host.framework_device says)
    gpus = lister("GPU")
    found["device"] = "gpu" if gpus else "cpu"
    details = getattr(experimental, "get_device_details", None)
    if gpus and details is not None:
        capability = details(gpus[0]).get("compute_capability")
        if capability:
            found["compute_capability"] = "%d.%d" % tuple(capability)
    return found


# jax_default_matmul_precision values that keep float32 products in float32 (None: XLA's default, TF32 on an
# Ampere or later GPU; bfloat16 on TPU).
_JAX_FULL_FLOAT32 = ("highest", "float32", "f32_f32_f32")


def _jax_precision():
    import jax
    value = jax.config.jax_default_matmul_precision
    text = None if value is None else str(getattr(value, "name", value))
    full = text is not None and text.lower() in _JAX_FULL_FLOAT32
    found = {"default_matmul_precision": text, "tf32_matmul": not full, "tf32_conv": not full}
    device = jax.devices()[0]
    platform = str(getattr(device, "platform", "cpu"))
    found["device"] = "gpu" if platform in ("gpu", "cuda", "rocm") else platform
    capability = getattr(device, "compute_capability", None)
    if capability:
        found["compute_capability"] = str(capability)
    return found


# ---------------------------------------------------------------- Keras steps_per_execution

def steps_per_execution(model):
    """Batches per compiled call of the fit loop (Keras 2.4+ / 3); None where the model has no such setting."""
    if model is None:
        return None
    value = getattr(model, "steps_per_execution", None)
    if value is None:
        value = getattr(model, "_steps_per_execution", None)  # Keras 2.4-2.x: a tf.Variable
    if value is None:
        return None
    if hasattr(value, "numpy"):
        value = value.numpy()
    return int(value)


# ---------------------------------------------------------------- torch.compile / dynamo

def torch_compile_requested(model):
    """torch.compile was asked for: Keras' jit_compile resolved True on torch, or the native environment's
    ORCHESTRATE_TORCH_COMPILE=1."""
    return os.environ.get(TORCH_COMPILE_VAR, "") == "1" or getattr(model, "jit_compile", None) is True


def torch_compile_stats(model):
    """Dynamo's counters after fit: frames compiled, recompiles, graph breaks (with the most frequent reasons).

    Read only where torch._dynamo is already loaded (never imported here: that alone takes seconds). The counter
    names moved between torch versions: recompiles come from counters["recompiles"] where present, else the
    per-frame compile counter (FRAME_COMPILE_COUNTER: a frame's compiles after its first), else guard failures."""
    found = {"requested": torch_compile_requested(model)}
    if "torch._dynamo" not in sys.modules:
        found["compiled"] = False
        return found
    from torch._dynamo import utils
    counters = utils.counters
    frames = dict(counters.get("frames", {}))
    stats = dict(counters.get("stats", {}))
    found["frames_compiled"] = int(frames.get("ok", 0))
    found["unique_graphs"] = int(stats.get("unique_graphs", 0))
    found["compiled"] = bool(found["requested"] or frames.get("total", 0))
    breaks = _graph_breaks(utils, counters)
    found["graph_breaks"] = int(sum(breaks.values()))
    reasons = breaks.most_common(GRAPH_BREAK_REASONS)
    if reasons:
        found["graph_break_reasons"] = [reason[:REASON_CHARS] for reason, _ in reasons]
    found["recompiles"], found["recompiles_from"] = _recompiles(counters)
    return found


def _graph_breaks(utils, counters):
    """Each graph break dynamo took (a frame split in two), by the first line of its reason: utils'
    graph_break_reasons where present (every kind of break, each compile of the frame counted), else
    counters["graph_break"] (only the breaks raised as Unsupported in recent versions)."""
    listed = getattr(utils, "graph_break_reasons", None)
    if listed is not None:
        texts = [str(getattr(reason, "reason", reason)) for reason in listed]
    else:
        texts = []
        for reason, count in dict(counters.get("graph_break", {})).items():
            texts += [str(reason)] * int(count)
    return collections.Counter((text.strip().splitlines() or [""])[0] for text in texts)


def _recompiles(counters):
    direct = counters.get("recompiles")
    if direct:
        return int(sum(direct.values())), 'counters["recompiles"]'
    convert = sys.modules.get("torch._dynamo.convert_frame")
    per_frame = getattr(convert, "FRAME_COMPILE_COUNTER", None)
    if per_frame is not None:
        return int(sum(max(int(n) - 1, 0) for n in per_frame.values())), "FRAME_COMPILE_COUNTER"
    from torch._dynamo import utils
    failures = getattr(utils, "guard_failures", None)
    if failures is not None:
        return int(sum(len(v) for v in failures.values())), "guard_failures"
    return None, "no recompile counter in this torch"
