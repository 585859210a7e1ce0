"""The native workloads in TensorFlow 2 without Keras: tf.Variables in tf.Modules, tf.nn ops, a tf.function
training step (input_signature with an open batch size: no retrace for the last partial batch), and the Keras 3
update rules written out on slot variables (TensorFlow's own optimizers are Keras'). No XLA: Keras 3 on
TensorFlow compiles with XLA only on a GPU (jit_compile auto), so the native step does the same on the CPU.
"""

import numpy as np
import tensorflow as tf

from native import hyper
from native.runner import evaluate_batches

_GENERATOR = []


def set_seed(seed):
    np.random.seed(seed)
    tf.random.set_seed(seed)  # the initial values come from a generator made in build(), after the threads are set


def configure_threads(threads):
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:
        pass
    return {"requested": threads, "tf_intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
            "tf_inter_op": tf.config.threading.get_inter_op_parallelism_threads()}


def versions():
    return {"backend": "tensorflow", "backend_version": tf.__version__}


def uniform(shape, limit, name):
    return tf.Variable(_GENERATOR[0].uniform(shape, -limit, limit), name=name)


def zeros(shape, name):
    return tf.Variable(tf.zeros(shape), name=name)


class Dense(tf.Module):
    def __init__(self, fan_in, fan_out, limit=None, name=None):
        super().__init__(name=name)
        limit = limit if limit is not None else hyper.glorot_limit((fan_in, fan_out))
        self.w, self.b = uniform((fan_in, fan_out), limit, "kernel"), zeros((fan_out,), "bias")

    def __call__(self, x):
        if len(x.shape) == 2:
            return tf.matmul(x, self.w) + self.b
        # (batch, length, d): one 2-D matmul (tf.einsum's "...i,io" gradient took 50x as long on the CPU)
        shape = tf.shape(x)
        out = tf.matmul(tf.reshape(x, (-1, x.shape[-1])), self.w) + self.b
        return tf.reshape(out, tf.concat([shape[:-1], [self.w.shape[1]]], 0))


class Conv(tf.Module):
    def __init__(self, cin, cout, name=None):
        super().__init__(name=name)
        self.w = uniform((3, 3, cin, cout), hyper.glorot_limit((3, 3, cin, cout)), "kernel")
        self.b = zeros((cout,), "bias")

    def __call__(self, x):
        return tf.nn.bias_add(tf.nn.conv2d(x, self.w, strides=1, padding="VALID"), self.b)


def dropout(x, rate, training):
    return tf.nn.dropout(x, rate) if training else x


class MnistMLP(tf.Module):
    def __init__(self):
        super().__init__()
        self.d1, self.d2, self.d3 = Dense(784, 512), Dense(512, 512), Dense(512, 10)

    def __call__(self, x, training):
        rate = hyper.MNIST_MLP_DROPOUT
        x = dropout(tf.nn.relu(self.d1(x)), rate, training)
        return self.d3(dropout(tf.nn.relu(self.d2(x)), rate, training))


class MnistCNN(tf.Module):
    def __init__(self):
        super().__init__()
        self.c1, self.c2, self.d1, self.d2 = Conv(1, 32), Conv(32, 64), Dense(9216, 128), Dense(128, 10)

    def __call__(self, x, training):
        first, second = hyper.MNIST_CNN_DROPOUT
        x = tf.nn.max_pool2d(tf.nn.relu(self.c2(tf.nn.relu(self.c1(x)))), 2, 2, "VALID")
        x = tf.reshape(dropout(x, first, training), (-1, 9216))
        return self.d2(dropout(tf.nn.relu(self.d1(x)), second, training))


class LayerNorm(tf.Module):
    def __init__(self, d):
        super().__init__()
        self.gamma, self.beta = tf.Variable(tf.ones((d,)), name="gamma"), zeros((d,), "beta")

    def __call__(self, x):
        mean, variance = tf.nn.moments(x, axes=[-1], keepdims=True)
        return tf.nn.batch_normalization(x, mean, variance, self.beta, self.gamma,
                                         hyper.TRANSFORMER["layernorm_epsilon"])


class EncoderBlock(tf.Module):
    def __init__(self, t):
        super().__init__()
        d, self.heads, self.rate = t["d_model"], t["heads"], t["dropout"]
        qkv, out = hyper.attention_limits()
        self.q, self.k, self.v, self.o = Dense(d, d, qkv), Dense(d, d, qkv), Dense(d, d, qkv), Dense(d, d, out)
        self.ln1, self.ln2 = LayerNorm(d), LayerNorm(d)
        self.ff1, self.ff2 = Dense(d, t["ff"]), Dense(t["ff"], d)

    def __call__(self, x, training):
        b, n, d = tf.shape(x)[0], x.shape[1], x.shape[2]
        head = d // self.heads

        def split(v):
            return tf.transpose(tf.reshape(v, (b, n, self.heads, head)), (0, 2, 1, 3))
        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        weights = tf.nn.softmax(tf.matmul(q / tf.sqrt(float(head)), k, transpose_b=True), axis=-1)
        a = tf.reshape(tf.transpose(tf.matmul(dropout(weights, self.rate, training), v), (0, 2, 1, 3)), (b, n, d))
        x = self.ln1(x + dropout(self.o(a), self.rate, training))
        return self.ln2(x + dropout(self.ff2(tf.nn.gelu(self.ff1(x), approximate=False)), self.rate, training))


class TextTransformer(tf.Module):
    def __init__(self, vocab, length, classes):
        super().__init__()
        t, u = hyper.TRANSFORMER, hyper.TRANSFORMER["embedding_uniform"]
        self.tokens = uniform((vocab, t["d_model"]), u, "tokens")
        self.positions = uniform((length, t["d_model"]), u, "positions")
        self.ln = LayerNorm(t["d_model"])
        self.blocks = [EncoderBlock(t) for _ in range(t["blocks"])]
        self.head = Dense(t["d_model"], classes)

    def __call__(self, x, training):
        rate = hyper.TRANSFORMER["dropout"]
        x = dropout(self.ln(tf.gather(self.tokens, x) + self.positions), rate, training)
        for block in self.blocks:
            x = block(x, training)
        return self.head(x[:, 0])


class Optimizer(tf.Module):
    """Keras 3's RMSprop, Adadelta and Adam update rules (native/hyper.py) on slot variables."""

    def __init__(self, variables, hp):
        super().__init__()
        self.hp, self.targets = hp, list(variables)
        self.slots = [[tf.Variable(tf.zeros_like(v)) for v in self.targets] for _ in range(2)]
        self.iterations = tf.Variable(0.0)

    def apply(self, grads):
        hp, eps = self.hp, self.hp["epsilon"]
        self.iterations.assign_add(1.0)
        for v, g, s0, s1 in zip(self.targets, grads, self.slots[0], self.slots[1]):
            if hp["name"] == "rmsprop":
                s0.assign(hp["rho"] * s0 + (1 - hp["rho"]) * tf.square(g))
                v.assign_sub(hp["lr"] * g / tf.sqrt(s0 + eps))
            elif hp["name"] == "adadelta":
                s0.assign(hp["rho"] * s0 + (1 - hp["rho"]) * tf.square(g))
                delta = -tf.sqrt(s1 + eps) / tf.sqrt(s0 + eps) * g
                s1.assign(hp["rho"] * s1 + (1 - hp["rho"]) * tf.square(delta))
                v.assign_add(hp["lr"] * delta)
            else:
                t = self.iterations
                alpha = hp["lr"] * tf.sqrt(1 - hp["beta_2"] ** t) / (1 - hp["beta_1"] ** t)
                s0.assign_add((g - s0) * (1 - hp["beta_1"]))
                s1.assign_add((tf.square(g) - s1) * (1 - hp["beta_2"]))
                v.assign_sub(alpha * s0 / (tf.sqrt(s1) + eps))


class Trainer(object):
    def __init__(self, workload, model, x_spec):
        self.model = model
        self.params = sum(int(np.prod(v.shape)) for v in model.trainable_variables)
        hp = hyper.OPTIMIZERS[workload]
        self.opt = Optimizer(model.trainable_variables, hp)
        self.optimizer, self.deviations = "Keras 3 %s rule on tf.Variables" % hp["name"], []
        self.settings = {"jit_compile": {"requested": False, "resolved": False,
                                         "means": "tf.function graph, no XLA (as Keras 3 on a CPU-only host)"}}
        y_spec = tf.TensorSpec((None,), tf.int32)
        self.train_step = tf.function(self._train, input_signature=[x_spec, y_spec])
        self.eval_step = tf.function(self._eval, input_signature=[x_spec, y_spec])

    def _sums(self, logits, y):
        loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits)
        correct = tf.reduce_sum(tf.cast(tf.equal(tf.argmax(logits, axis=-1, output_type=tf.int32), y), tf.float32))
        return tf.reduce_sum(loss), correct

    def _train(self, x, y):
        with tf.GradientTape() as tape:
            logits = self.model(x, training=True)
            loss_sum, correct = self._sums(logits, y)
            loss = loss_sum / tf.cast(tf.shape(y)[0], tf.float32)
        self.opt.apply(tape.gradient(loss, self.model.trainable_variables))
        return loss_sum, correct

    def _eval(self, x, y):
        return self._sums(self.model(x, training=False), y)

    def evaluate(self, x, y, batch_size):
        return evaluate_batches(self.eval_step, x, y, batch_size)


def build(workload, data, seed):
    _GENERATOR[:] = [tf.random.Generator.from_seed(seed)]
    shape = (None,) + data["x_train"].shape[1:]
    if workload == "mnist_mlp":
        model = MnistMLP()
    elif workload == "mnist_cnn":
        model = MnistCNN()
    else:
        model = TextTransformer(data["vocab"], data["x_train"].shape[1], data["classes"])
    dtype = tf.int32 if workload == "text_transformer" else tf.float32
    return Trainer(workload, model, tf.TensorSpec(shape, dtype))
