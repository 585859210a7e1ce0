"""The native workloads in JAX: flax nnx modules and optax optimizers, one jax.jit training step.

The step is a pure function of the split nnx state (nnx.split / nnx.merge inside jax.jit, the pattern flax's
performance guide gives for small steps), so no Python graph traversal per call. Keras' initialisers
(glorot_uniform with Keras' fans, zero biases, uniform +-0.05 embeddings); optax.rmsprop with eps under the
root is Keras 3's RMSprop, optax.adadelta Keras 3's Adadelta; optax.adam adds eps to sqrt(v_hat).
"""

import functools
import os

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from native import hyper
from native.runner import evaluate_batches


def set_seed(seed):
    np.random.seed(seed)


def configure_threads(threads):
    cpu = "xla_cpu_multi_thread_eigen=false" in os.environ.get("XLA_FLAGS", "")
    return {"requested": threads, "xla_cpu_threads": 1 if cpu else "the cores of the process affinity",
            "jax_devices": [str(d) for d in jax.devices()]}


def versions():
    import flax
    return {"backend": "jax", "backend_version": jax.__version__, "flax": flax.__version__,
            "optax": optax.__version__}


def uniform(limit):
    def init(key, shape, dtype=jnp.float32):
        return jax.random.uniform(key, shape, dtype, -limit, limit)
    return init


def dense(fan_in, fan_out, rngs, limit=None):
    limit = limit if limit is not None else hyper.glorot_limit((fan_in, fan_out))
    return nnx.Linear(fan_in, fan_out, kernel_init=uniform(limit), bias_init=nnx.initializers.zeros_init(),
                      rngs=rngs)


class MnistMLP(nnx.Module):
    def __init__(self, rngs):
        self.d1, self.d2, self.d3 = dense(784, 512, rngs), dense(512, 512, rngs), dense(512, 10, rngs)
        self.drop = nnx.Dropout(hyper.MNIST_MLP_DROPOUT, rngs=rngs)

    def __call__(self, x):
        x = self.drop(nnx.relu(self.d1(x)))
        x = self.drop(nnx.relu(self.d2(x)))
        return self.d3(x)


class MnistCNN(nnx.Module):
    def __init__(self, rngs):
        def conv(cin, cout):
            limit = hyper.glorot_limit((3, 3, cin, cout))
            return nnx.Conv(cin, cout, (3, 3), padding="VALID", kernel_init=uniform(limit),
                            bias_init=nnx.initializers.zeros_init(), rngs=rngs)
        first, second = hyper.MNIST_CNN_DROPOUT
        self.c1, self.c2 = conv(1, 32), conv(32, 64)
        self.d1, self.d2 = dense(9216, 128, rngs), dense(128, 10, rngs)
        self.drop1, self.drop2 = nnx.Dropout(first, rngs=rngs), nnx.Dropout(second, rngs=rngs)

    def __call__(self, x):
        x = nnx.relu(self.c2(nnx.relu(self.c1(x))))
        x = nnx.max_pool(x, (2, 2), strides=(2, 2))
        x = self.drop1(x).reshape(x.shape[0], -1)
        return self.d2(self.drop2(nnx.relu(self.d1(x))))


class EncoderBlock(nnx.Module):
    def __init__(self, t, rngs):
        d, self.heads = t["d_model"], t["heads"]
        qkv, out = hyper.attention_limits()
        self.q, self.k, self.v = dense(d, d, rngs, qkv), dense(d, d, rngs, qkv), dense(d, d, rngs, qkv)
        self.o = dense(d, d, rngs, out)
        self.ln1 = nnx.LayerNorm(d, epsilon=t["layernorm_epsilon"], rngs=rngs)
        self.ff1, self.ff2 = dense(d, t["ff"], rngs), dense(t["ff"], d, rngs)
        self.ln2 = nnx.LayerNorm(d, epsilon=t["layernorm_epsilon"], rngs=rngs)
        self.drop = nnx.Dropout(t["dropout"], rngs=rngs)
        self.attention_drop = nnx.Dropout(t["dropout"], rngs=rngs)

    def __call__(self, x):
        b, n, d = x.shape
        split = lambda v: v.reshape(b, n, self.heads, d // self.heads)  # noqa: E731
        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        scores = jnp.einsum("bqhd,bkhd->bhqk", q / jnp.sqrt(d // self.heads).astype(x.dtype), k)
        weights = self.attention_drop(jax.nn.softmax(scores, axis=-1))
        a = jnp.einsum("bhqk,bkhd->bqhd", weights, v).reshape(b, n, d)
        x = self.ln1(x + self.drop(self.o(a)))
        return self.ln2(x + self.drop(self.ff2(jax.nn.gelu(self.ff1(x), approximate=False))))


class TextTransformer(nnx.Module):
    def __init__(self, vocab, length, classes, rngs):
        t, u = hyper.TRANSFORMER, hyper.TRANSFORMER["embedding_uniform"]
        self.tokens = nnx.Embed(vocab, t["d_model"], embedding_init=uniform(u), rngs=rngs)
        self.positions = nnx.Param(uniform(u)(rngs.params(), (length, t["d_model"])))
        self.ln = nnx.LayerNorm(t["d_model"], epsilon=t["layernorm_epsilon"], rngs=rngs)
        self.drop = nnx.Dropout(t["dropout"], rngs=rngs)
        self.blocks = nnx.List([EncoderBlock(t, rngs) for _ in range(t["blocks"])])
        self.head = dense(t["d_model"], classes, rngs)

    def __call__(self, x):
        x = self.drop(self.ln(self.tokens(x) + self.positions[...]))
        for block in self.blocks:
            x = block(x)
        return self.head(x[:, 0])


def make_optimizer(workload):
    hp = hyper.OPTIMIZERS[workload]
    if hp["name"] == "rmsprop":
        return optax.rmsprop(hp["lr"], decay=hp["rho"], eps=hp["epsilon"], eps_in_sqrt=True), "optax.rmsprop", []
    if hp["name"] == "adadelta":
        return optax.adadelta(hp["lr"], rho=hp["rho"], eps=hp["epsilon"]), "optax.adadelta", []
    return optax.adam(hp["lr"], b1=hp["beta_1"], b2=hp["beta_2"], eps=hp["epsilon"]), "optax.adam", [
        "Adam: optax adds epsilon to sqrt(v / (1 - b2^t)), Keras 3 to sqrt(v) (epsilon 1e-7)"]


def sums(logits, y):
    loss = optax.softmax_cross_entropy_with_integer_labels(logits, y)
    return loss.sum(), (jnp.argmax(logits, axis=-1) == y).sum()


@functools.partial(jax.jit, static_argnums=0)
def _train(graphdef, state, x, y):
    model, optimizer = nnx.merge(graphdef, state)

    def loss_fn(m):
        loss_sum, correct = sums(m(x), y)
        return loss_sum / x.shape[0], (loss_sum, correct)

    grads, (loss_sum, correct) = nnx.grad(loss_fn, has_aux=True)(model)
    optimizer.update(model, grads)
    return nnx.state((model, optimizer)), loss_sum, correct


@functools.partial(jax.jit, static_argnums=0)
def _eval(graphdef, state, x, y):
    return sums(nnx.merge(graphdef, state)(x), y)


class Trainer(object):
    def __init__(self, workload, model):
        self.params = sum(int(np.prod(p.shape)) for p in jax.tree_util.tree_leaves(nnx.state(model, nnx.Param)))
        tx, self.optimizer, self.deviations = make_optimizer(workload)
        self.settings = {"jit_compile": {"requested": True, "resolved": True,
                                         "means": "XLA: jax.jit of the whole training step (nnx split state)"}}
        optimizer = nnx.Optimizer(model, tx, wrt=nnx.Param)
        self.model, self.opt = model, optimizer
        self.split()

    def split(self):
        self.model.train()
        self.graphdef, self.state = nnx.split((self.model, self.opt))
        self.model.eval()
        self.eval_graphdef = nnx.graphdef(self.model)
        self.model.train()

    def train_step(self, x, y):
        self.state, loss_sum, correct = _train(self.graphdef, self.state, x, y)
        return loss_sum, correct

    def evaluate(self, x, y, batch_size):
        nnx.update((self.model, self.opt), self.state)
        params = nnx.state(self.model)
        return evaluate_batches(lambda a, b: _eval(self.eval_graphdef, params, a, b), x, y, batch_size)


def build(workload, data, seed):
    rngs = nnx.Rngs(params=seed, dropout=seed + 1)
    if workload == "mnist_mlp":
        model = MnistMLP(rngs)
    elif workload == "mnist_cnn":
        model = MnistCNN(rngs)
    else:
        model = TextTransformer(data["vocab"], data["x_train"].shape[1], data["classes"], rngs)
    return Trainer(workload, model)
