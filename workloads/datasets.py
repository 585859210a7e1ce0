"""Real datasets (offline data directory, or the canonical origins the Keras examples use) and synthetic ones.

Runs inside every environment: Python 3.6+, NumPy only. A missing real file fails with a message naming
the file and where to put it: never a silent swap to synthetic data. Synthetic data has the same shapes
and is recorded as synthetic.
"""

import hashlib
import os
import shutil
import tempfile

import numpy as np

try:  # Python 3
    from urllib.request import urlopen
except ImportError:  # pragma: no cover
    from urllib2 import urlopen

MNIST_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
MNIST_KERAS_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
MNIST_FIRST_TRAIN_LABELS = [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
MNIST_FIRST_TEST_LABELS = [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]


class DataError(Exception):
    """Missing or invalid data: the message names the file and what to do."""


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def find_file(data_spec, relative_paths, origin=None, origin_sha256=None):
    """Locate a dataset file in the data directory, or download it into the cache from its origin.

    relative_paths: candidate paths inside the data directory (the first is the documented place).
    """
    data_dir = data_spec.get("dir")
    if data_dir:
        for rel in relative_paths:
            path = os.path.join(data_dir, rel)
            if os.path.isfile(path):
                return path
        raise DataError(
            "data file %s not found in the data directory %s; put the file there "
            "(layout as in shared/data: %s), or run without --data-dir to download it from %s"
            % (relative_paths[0], data_dir, relative_paths[0], origin or "its origin"))
    cache_dir = data_spec.get("cache_dir") or os.path.join(os.path.expanduser("~"), ".cache", "orchestrate")
    path = os.path.join(cache_dir, relative_paths[0])
    if os.path.isfile(path):
        return path
    if not origin:
        raise DataError("data file %s not found and it has no download origin; pass --data-dir" % relative_paths[0])
    _download(origin, path, origin_sha256)
    return path


def _download(url, path, expected_sha256):
    folder = os.path.dirname(path)
    if not os.path.isdir(folder):
        os.makedirs(folder)
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                response = urlopen(url, timeout=60)
            except Exception as exc:
                raise DataError("could not download %s (%s); without internet, pass --data-dir with a copy of "
                                "the file (see shared/data for the layout)" % (url, exc))
            shutil.copyfileobj(response, out)
        if expected_sha256 and sha256_of(tmp) != expected_sha256:
            raise DataError("download of %s does not match its published SHA-256 %s" % (url, expected_sha256))
        os.rename(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def subset(arrays, limit):
    """The first `limit` samples (None: all)."""
    if limit is None:
        return arrays
    return [a[:limit] for a in arrays]


def provenance(source, dataset, path=None, samples=None, subset_note=None, notes=None):
    info = {"source": source, "dataset": dataset, "path": path, "samples": samples or {},
            "sha256": {}, "subset": subset_note, "notes": list(notes or [])}
    if path and os.path.isfile(path):
        info["sha256"] = {os.path.basename(path): sha256_of(path)}
    return info


# ---------------------------------------------------------------- MNIST

def load_mnist(spec):
    """(x_train, y_train), (x_test, y_test) as uint8 images and int labels, and their provenance."""
    data_spec = spec["data"]
    if data_spec.get("source") == "synthetic":
        return synthetic_mnist(spec)
    path = find_file(data_spec, ["mnist/mnist.npz", "mnist.npz"], MNIST_ORIGIN, MNIST_KERAS_SHA256)
    with np.load(path, allow_pickle=False) as f:
        x_train, y_train, x_test, y_test = f["x_train"], f["y_train"], f["x_test"], f["y_test"]
    check_mnist(path, x_train, y_train, x_test, y_test)
    n_train, n_test = spec.get("train_samples"), spec.get("test_samples")
    x_train, y_train = subset([x_train, y_train], n_train)
    x_test, y_test = subset([x_test, y_test], n_test)
    note = _subset_note(n_train, n_test, 60000, 10000)
    info = provenance("real", "mnist", path, {"train": len(x_train), "test": len(x_test)}, note,
                      ["checked by content: shapes, dtype, label range, first labels"])
    return (x_train, y_train), (x_test, y_test), info


def check_mnist(path, x_train, y_train, x_test, y_test):
    problems = []
    if x_train.shape != (60000, 28, 28) or x_test.shape != (10000, 28, 28):
        problems.append("shapes %s / %s, expected (60000, 28, 28) / (10000, 28, 28)" % (x_train.shape, x_test.shape))
    if x_train.dtype != np.uint8:
        problems.append("dtype %s, expected uint8" % x_train.dtype)
    if y_train.min() < 0 or y_train.max() > 9:
        problems.append("labels outside 0..9")
    if list(y_train[:10]) != MNIST_FIRST_TRAIN_LABELS or list(y_test[:10]) != MNIST_FIRST_TEST_LABELS:
        problems.append("first labels differ from MNIST's")
    if problems:
        raise DataError("%s is not MNIST: %s" % (path, "; ".join(problems)))


def synthetic_mnist(spec):
    rng = np.random.RandomState(spec.get("seed", 0))
    n_train = spec.get("train_samples") or 60000
    n_test = spec.get("test_samples") or 10000
    x_train = rng.randint(0, 256, size=(n_train, 28, 28)).astype("uint8")
    x_test = rng.randint(0, 256, size=(n_test, 28, 28)).astype("uint8")
    y_train = rng.randint(0, 10, size=(n_train,)).astype("uint8")
    y_test = rng.randint(0, 10, size=(n_test,)).astype("uint8")
    info = provenance("synthetic", "mnist", None, {"train": n_train, "test": n_test}, None,
                      ["uniform random pixels and labels with MNIST's shapes; accuracy is meaningless"])
    return (x_train, y_train), (x_test, y_test), info


def _subset_note(n_train, n_test, full_train, full_test):
    if n_train is None and n_test is None:
        return None
    return "first %s of %d train, first %s of %d test" % (
        n_train if n_train is not None else full_train, full_train,
        n_test if n_test is not None else full_test, full_test)
