"""text_transformer: a small BERT-style encoder classifier on bAbI QA1, Keras 3 only.

[CLS] story question tokens -> token + position embeddings (uniform +-0.05), LayerNorm, dropout; 2 post-LayerNorm
encoder blocks (4-head self-attention with attention dropout, residual, LayerNorm; Dense 128 GELU (erf), Dense 64,
residual, LayerNorm; dropout 0.1); the first token's vector -> Dense softmax over the vocabulary (the answer
word). Adam (Keras 3 defaults: lr 1e-3, epsilon 1e-7); batch 32. No attention mask (padding tokens attend, as
in every native version). 74,646 parameters on QA1 en-10k. The native versions: workloads/native/.
"""

import compat
import datasets
from native import data as native_data
from native.hyper import OPTIMIZERS, TRANSFORMER

keras = compat.keras
KERAS_MIN = 3  # keras.layers.MultiHeadAttention; older generations record the cell as unsupported (harness.py)


def load(spec):
    (x, xq, y), (tx, txq, ty), meta, info = datasets.load_babi(spec)
    data = {"x_train": native_data.babi_tokens(x, xq, meta), "y_train": y,
            "x_test": native_data.babi_tokens(tx, txq, meta), "y_test": ty, "meta": meta}
    return data, info


class PositionEmbedding(keras.layers.Layer):
    """A learned vector per position, added to the token embeddings (BERT's position embeddings)."""

    def __init__(self, length, dim, **kwargs):
        super().__init__(**kwargs)
        self.length, self.dim = length, dim

    def build(self, input_shape):
        u = TRANSFORMER["embedding_uniform"]
        self.positions = self.add_weight(shape=(self.length, self.dim), name="positions",
                                         initializer=keras.initializers.RandomUniform(-u, u))

    def call(self, x):
        return x + self.positions


def encoder_block(x, t):
    attention = keras.layers.MultiHeadAttention(num_heads=t["heads"], key_dim=t["d_model"] // t["heads"],
                                                dropout=t["dropout"])(x, x)
    x = keras.layers.LayerNormalization(epsilon=t["layernorm_epsilon"])(
        x + keras.layers.Dropout(t["dropout"])(attention))
    ff = keras.layers.Dense(t["ff"], activation="gelu")(x)  # Keras 3's gelu: exact (erf), approximate=False
    ff = keras.layers.Dense(t["d_model"])(ff)
    return keras.layers.LayerNormalization(epsilon=t["layernorm_epsilon"])(x + keras.layers.Dropout(t["dropout"])(ff))


def build(spec, data):
    t, meta = TRANSFORMER, data["meta"]
    length = data["x_train"].shape[1]
    u = t["embedding_uniform"]
    tokens = keras.Input(shape=(length,), dtype="int32")
    x = keras.layers.Embedding(meta["vocab_size"] + 1, t["d_model"],
                               embeddings_initializer=keras.initializers.RandomUniform(-u, u))(tokens)
    x = PositionEmbedding(length, t["d_model"])(x)
    x = keras.layers.Dropout(t["dropout"])(keras.layers.LayerNormalization(epsilon=t["layernorm_epsilon"])(x))
    for _ in range(t["blocks"]):
        x = encoder_block(x, t)
    first = keras.layers.Lambda(lambda v: v[:, 0])(x)
    out = keras.layers.Dense(meta["vocab_size"], activation="softmax")(first)
    model = keras.Model(tokens, out)
    hp = dict(OPTIMIZERS["text_transformer"])
    opt = keras.optimizers.Adam(learning_rate=hp["lr"], beta_1=hp["beta_1"], beta_2=hp["beta_2"],
                                epsilon=hp["epsilon"])
    compat.compile_model(model, "categorical_crossentropy", opt)
    hyperparameters = {"optimizer": "Adam", "sequence_length": length}
    hyperparameters.update(hp)
    hyperparameters.update(t)
    return model, {"hyperparameters": hyperparameters, "deviations": []}
