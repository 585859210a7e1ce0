"""The data of the native workloads, prepared as the Keras workloads prepare it (numpy only, shared with
workloads/text_transformer.py): the same subsets, scaling, dtype and samples; labels as class indices
(the Keras workloads one-hot them; categorical cross-entropy on one-hot = sparse cross-entropy on indices)."""

import numpy as np

import datasets

CLS_NAME = "[CLS]"


def load(spec):
    """{"x_train", "y_train", "x_test", "y_test", ...} and the data's provenance, for spec["workload"]."""
    name = spec["workload"]
    if name in ("mnist_mlp", "mnist_cnn"):
        (x_train, y_train), (x_test, y_test), info = datasets.load_mnist(spec)
        shape = (784,) if name == "mnist_mlp" else (28, 28, 1)
        data = {"x_train": mnist_images(x_train, shape), "y_train": y_train.astype("int32"),
                "x_test": mnist_images(x_test, shape), "y_test": y_test.astype("int32"), "classes": 10}
        return data, info
    if name == "text_transformer":
        (x, xq, y), (tx, txq, ty), meta, info = datasets.load_babi(spec)
        data = {"x_train": babi_tokens(x, xq, meta), "y_train": y.argmax(axis=1).astype("int32"),
                "x_test": babi_tokens(tx, txq, meta), "y_test": ty.argmax(axis=1).astype("int32"),
                "classes": meta["vocab_size"], "vocab": meta["vocab_size"] + 1}
        return data, info
    raise ValueError("workload %r has no native version (workloads/native/ has mnist_mlp, mnist_cnn, "
                     "text_transformer)" % name)


def mnist_images(x, shape):
    """float32 in [0, 1], as mnist_mlp.py / mnist_cnn.py (channels_last) shape them."""
    return x.reshape((len(x),) + shape).astype("float32") / 255


def babi_tokens(story, question, meta):
    """One token sequence per question: [CLS] story question (int32). [CLS] is the id after the vocabulary
    (meta["vocab_size"]); index 0 stays padding (at the front of the story, as babi_rnn pads)."""
    cls = np.full((len(story), 1), meta["vocab_size"], dtype="int32")
    return np.concatenate([cls, story.astype("int32"), question.astype("int32")], axis=1)


def epoch_order(n, seed, epoch):
    """The shuffled sample order of one epoch: the same in every native framework (seed and epoch)."""
    return np.random.RandomState(seed + 1000 * epoch).permutation(n)


def batches(n, batch_size):
    """(start, stop) of each batch, the last one partial as Keras' fit makes it."""
    return [(i, min(i + batch_size, n)) for i in range(0, n, batch_size)]
