"""Architecture and optimizer settings of the native workloads: the Keras workloads' own, written out once
(workloads/text_transformer.py reads the transformer's from here; mnist_mlp/mnist_cnn's are Keras 2.0.8's,
compat.KERAS2_OPTIMIZERS, as Keras 3 takes them: compat.optimizer)."""

import math

# Keras 3 update rules (keras/src/optimizers/*.py), which the native versions implement or configure:
#   RMSprop:  v = rho v + (1 - rho) g^2;            w -= lr g / sqrt(v + eps)      (eps under the root)
#   Adadelta: a = rho a + (1 - rho) g^2;  d = -sqrt(s + eps) / sqrt(a + eps) g;  s = rho s + (1 - rho) d^2;  w += lr d
#   Adam:     m, v as usual;  w -= lr sqrt(1 - b2^t) / (1 - b1^t) m / (sqrt(v) + eps)
OPTIMIZERS = {
    "mnist_mlp": {"name": "rmsprop", "lr": 0.001, "rho": 0.9, "epsilon": 1e-8},
    "mnist_cnn": {"name": "adadelta", "lr": 1.0, "rho": 0.95, "epsilon": 1e-8},
    "text_transformer": {"name": "adam", "lr": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7},
}

# The BERT-style classifier (workloads/text_transformer.py).
TRANSFORMER = {"d_model": 64, "heads": 4, "ff": 128, "blocks": 2, "dropout": 0.1, "layernorm_epsilon": 1e-5,
               "embedding_uniform": 0.05}
MNIST_MLP_DROPOUT = 0.2
MNIST_CNN_DROPOUT = (0.25, 0.5)


def keras_fans(shape):
    """Keras' compute_fans: the last two axes are (in, out), every axis before them a receptive field."""
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = 1
    for dim in shape[:-2]:
        receptive *= dim
    return shape[-2] * receptive, shape[-1] * receptive


def glorot_limit(shape):
    fan_in, fan_out = keras_fans(shape)
    return math.sqrt(6.0 / (fan_in + fan_out))


def attention_limits():
    """Keras' MultiHeadAttention keeps q/k/v kernels as (d, heads, head_dim) and the output kernel as
    (heads, head_dim, d), so glorot_uniform's limits differ from a (d, d) matrix's: the native versions
    keep (d, d) matrices and draw from Keras' limits."""
    d, h = TRANSFORMER["d_model"], TRANSFORMER["heads"]
    return glorot_limit((d, h, d // h)), glorot_limit((h, d // h, d))
