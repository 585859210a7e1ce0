"""Same computation, checked before timing (Keras 3 only): does this backend compute what the others compute?

Called by harness.run after the model is built and before fit. The model gets reference weights that are the same
on every backend (numpy, seeded by the spec's seed, one array per weight in model.weights order), through a Keras 3
`.weights.h5` file loaded with model.load_weights (the portable format). On a fixed batch (the first
min(batch_size, 8) training samples) it computes the forward outputs in inference mode, the compiled loss and the
global gradient norm (training=False: dropout and noise off, BatchNorm on its moving statistics) with the backend's
own autodiff. The result is one `equivalence` event; the host compares the backends of a workload
(orchestrator/analysis/equivalence.py). The model's own initial weights are put back afterwards, so training
starts from them as before. Nothing here fails the cell: a part that fails records its error.

ORCHESTRATE_PERTURB_WEIGHTS=SCALE (a test hook, recorded with the thread settings) multiplies every weight by
(1 + SCALE x noise) after loading, for the check: that backend then computes another model, which the check must
catch.

Plain Python 3.6 syntax (the file sits beside the legacy Keras workloads), though it runs on Keras 3 only.
"""

import hashlib
import math
import os
import time

import numpy

PERTURB_VAR = "ORCHESTRATE_PERTURB_WEIGHTS"
BATCH_MAX = 8           # samples in the fixed batch
SAMPLE_MAX = 4096       # output values kept (evenly strided over the flattened outputs)
FOLDER = "equivalence"  # beside the cell's events file (the logs folder: the one writable mount in Docker)
OTHER_SCALE = 0.05      # a weight of neither kind (1-D, not constant): uniform in [-0.05, 0.05]


def check(spec, model, data, workload, compat, logs_dir):
    """The equivalence event's fields (never raises): what was compared, the numbers, the hashes, the errors."""
    t0 = time.perf_counter()
    keras = compat.keras
    found = {
        "compared": ["outputs in inference mode (training=False)", "loss (the compiled loss, training=False)",
                     "global gradient norm of the loss over the trainable weights"],
        "left_out": ["dropout/noise layers: randomness off (training=False)",
                     "BatchNorm: its moving statistics (inference mode), not the batch's",
                     "sample weights and the optimizer's step"],
        "dtype_policy": keras.mixed_precision.global_policy().name,
        "backend": compat.backend_name(),
        "errors": {},
    }
    perturb = _perturb_scale(found)
    try:
        own = model.get_weights()
    except Exception as exc:
        found["errors"]["weights"] = _error(exc)
        found["seconds"] = time.perf_counter() - t0
        return found
    try:
        reference = reference_weights(own, int(spec.get("seed") or 0))
        found["weights_sha256"] = digest(reference)
        found["weights"] = {"count": len(reference), "values": int(sum(w.size for w in reference))}
        found["weights_via"] = _load(model, reference, own, logs_dir, spec.get("cell_id") or "cell", found)
        if perturb:
            model.set_weights(perturbed(reference, perturb, int(spec.get("seed") or 0)))
            found["perturbed"] = perturb
        batch = fixed_batch(spec, data, workload, found)
        if batch is not None:
            x, y = batch
            _forward(model, x, compat.backend_name(), found)
            if y is not None:
                _loss_and_gradient(model, x, y, compat.backend_name(), found)
            else:
                found["left_out"].append("loss and gradient: no training data (forward outputs only)")
    except Exception as exc:
        found["errors"]["setup"] = _error(exc)
    finally:
        try:
            model.set_weights(own)
        except Exception as exc:
            found["errors"]["restore"] = _error(exc)
    found["seconds"] = time.perf_counter() - t0
    return found


def reference_weights(weights, seed):
    """One array per weight, the same on every backend: glorot-uniform-like for 2-D and larger (from the shape), a
    1-D weight the backend set to one constant (zeros, ones: biases, BatchNorm's gamma, beta and moving statistics)
    keeps it, other floating weights small uniform values; integer weights keep their values."""
    rng = numpy.random.RandomState(seed)
    out = []
    for w in weights:
        w = numpy.asarray(w)
        if w.dtype.kind != "f":
            out.append(w.copy())
        elif w.ndim >= 2:
            receptive = int(numpy.prod(w.shape[:-2])) if w.ndim > 2 else 1
            fan_in, fan_out = w.shape[-2] * receptive, w.shape[-1] * receptive
            limit = math.sqrt(6.0 / max(1, fan_in + fan_out))
            out.append(rng.uniform(-limit, limit, w.shape).astype(w.dtype))
        elif w.size and numpy.all(w == w.reshape(-1)[0]):
            out.append(numpy.full(w.shape, w.reshape(-1)[0], dtype=w.dtype))
        else:
            out.append(rng.uniform(-OTHER_SCALE, OTHER_SCALE, w.shape).astype(w.dtype))
    return out


def perturbed(weights, scale, seed):
    """The test hook's weights: each floating weight times (1 + scale x standard normal noise)."""
    rng = numpy.random.RandomState(seed + 1)
    return [(w * (1 + scale * rng.standard_normal(w.shape))).astype(w.dtype) if w.dtype.kind == "f" else w
            for w in weights]


def digest(arrays):
    """sha256 over the arrays' shapes, dtypes and bytes, in order (lists and dicts walked in order / by key)."""
    h = hashlib.sha256()
    for a in _leaves(arrays):
        a = numpy.ascontiguousarray(a)
        h.update(("%s%s" % (a.dtype.str, a.shape)).encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _leaves(x):
    if isinstance(x, dict):
        return [leaf for key in sorted(x) for leaf in _leaves(x[key])]
    if isinstance(x, (list, tuple)):
        return [leaf for item in x for leaf in _leaves(item)]
    return [numpy.asarray(x)]


def fixed_batch(spec, data, workload, found):
    """(x, y): the first min(batch_size, 8) training samples; without x_train/y_train, the inference inputs (or
    x_test) and y None (forward only). None when there is nothing to feed."""
    n = min(int(spec.get("batch_size") or BATCH_MAX), BATCH_MAX)
    x, y, source = data.get("x_train"), data.get("y_train"), "x_train"
    if x is None or y is None:
        inputs = getattr(workload, "inference_inputs", None)
        x, y, source = (inputs(spec, data), None, "inference inputs") if inputs else (data.get("x_test"), None,
                                                                                       "x_test")
    if x is None:
        found["errors"]["batch"] = "no x_train, inference inputs or x_test to feed"
        return None
    x = _take(x, n)
    y = _take(y, n) if y is not None else None
    found["batch"] = {"source": source, "samples": _rows(x), "sha256": digest([x] if y is None else [x, y])}
    return x, y


def _take(x, n):
    if isinstance(x, dict):
        return dict((k, numpy.asarray(v[:n])) for k, v in x.items())
    if isinstance(x, (list, tuple)):
        return [numpy.asarray(v[:n]) for v in x]
    return numpy.asarray(x[:n])


def _rows(x):
    leaves = _leaves(x)
    return len(leaves[0]) if leaves and leaves[0].ndim else 0


def _load(model, reference, own, logs_dir, cell_id, found):
    """The reference weights through a `.weights.h5` file (written, loaded back, removed); set_weights if that
    fails, with the error recorded."""
    folder = os.path.join(logs_dir, FOLDER)
    path = os.path.join(folder, "%s.weights.h5" % cell_id)
    try:
        if not os.path.isdir(folder):
            os.makedirs(folder)
        model.set_weights(reference)
        model.save_weights(path)
        model.set_weights(own)  # so what the check runs on comes from the file
        model.load_weights(path)
        return "load_weights(.weights.h5)"
    except Exception as exc:
        found["errors"]["load_weights"] = _error(exc)
        model.set_weights(reference)
        return "set_weights (load_weights failed)"
    finally:
        if os.path.exists(path):
            os.remove(path)


def _forward(model, x, backend, found):
    try:
        t0 = time.perf_counter()
        call = _jax_forward if backend == "jax" else lambda m, x: m(x, training=False)
        outputs = [_numpy(o) for o in _leaves_of(call(model, x))]
        found["forward_s"] = time.perf_counter() - t0
    except Exception as exc:
        found["errors"]["outputs"] = _error(exc)
        return
    flat = [o.reshape(-1) for o in outputs]
    total = int(sum(f.size for f in flat))
    stride = max(1, int(math.ceil(total / float(SAMPLE_MAX))))
    values = numpy.concatenate(flat)[::stride][:SAMPLE_MAX].astype("float64") if flat else numpy.zeros(0)
    found["outputs"] = {
        "shape": [list(o.shape) for o in outputs] if len(outputs) > 1 else list(outputs[0].shape),
        "count": total, "stride": stride, "sample": [float(str(v)) for v in values.astype("float32")],
        "abs_max": float(max(numpy.max(numpy.abs(f.astype("float64"))) if f.size else 0.0 for f in flat)),
        "finite": bool(all(numpy.all(numpy.isfinite(f.astype("float64"))) for f in flat)),
    }


def _leaves_of(outputs):
    if isinstance(outputs, dict):
        return [outputs[k] for k in sorted(outputs)]
    if isinstance(outputs, (list, tuple)):
        return [leaf for o in outputs for leaf in _leaves_of(o)]
    return [outputs]


def _numpy(tensor):
    import keras
    return numpy.asarray(keras.ops.convert_to_numpy(tensor))


def _loss_and_gradient(model, x, y, backend, found):
    """The compiled loss and the global gradient norm, by the backend's autodiff (training=False)."""
    try:
        loss, grads = GRADIENTS[backend](model, x, y)
        norms = [float(numpy.sum(numpy.square(_numpy(g).astype("float64")))) for g in grads if g is not None]
        found["loss"] = float(_numpy(loss))
        found["grad_norm"] = math.sqrt(sum(norms))
        found["gradients"] = {"weights": len(grads), "none": sum(1 for g in grads if g is None)}
    except KeyError:
        found["errors"]["loss"] = "no gradient for the %s backend here" % backend
    except Exception as exc:
        found["errors"]["loss"] = _error(exc)


def _compute_loss(model, x, y, y_pred):
    compute = getattr(model, "_compute_loss", None) or model.compute_loss  # handles overrides without `training`
    return compute(x=x, y=y, y_pred=y_pred, training=False)


def _tensorflow(model, x, y):
    import tensorflow as tf
    variables = model.trainable_variables
    with tf.GradientTape() as tape:
        loss = _compute_loss(model, x, y, model(x, training=False))
    return loss, tape.gradient(loss, variables)


def _torch(model, x, y):
    import torch
    variables = model.trainable_variables
    for v in variables:
        v.value.grad = None
    with torch.enable_grad():
        loss = _compute_loss(model, x, y, model(x, training=False))
        loss.backward()
    grads = [None if v.value.grad is None else v.value.grad.detach().clone() for v in variables]
    for v in variables:
        v.value.grad = None  # training starts with no gradient left over
    return loss.detach(), grads


def _jax(model, x, y):
    import jax
    import keras
    variables = model.trainable_variables

    def loss_of(values):
        with keras.StatelessScope(state_mapping=list(zip(variables, values))):
            return _compute_loss(model, x, y, model(x, training=False))

    return jax.jit(jax.value_and_grad(loss_of))([v.value for v in variables])  # eager: op by op, far slower


def _jax_forward(model, x):
    import jax
    trainable = [v.value for v in model.trainable_variables]
    other = [v.value for v in model.non_trainable_variables]
    return jax.jit(lambda t, o: model.stateless_call(t, o, x, training=False)[0])(trainable, other)


GRADIENTS = {"tensorflow": _tensorflow, "torch": _torch, "jax": _jax}


def _perturb_scale(found):
    raw = os.environ.get(PERTURB_VAR)
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        found["errors"]["perturb"] = "%s=%r is not a number: not applied" % (PERTURB_VAR, raw)
        return None


def _error(exc):
    return "%s: %s" % (type(exc).__name__, str(exc)[:500])
