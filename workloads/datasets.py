"""Real datasets (offline data directory, or the canonical origins the Keras examples use) and synthetic ones.

Runs inside every environment: Python 3.6+, NumPy only. A missing real file fails with a message naming
the file and where to put it: never a silent swap to synthetic data. Synthetic data has the same shapes
and is recorded as synthetic.
"""

import hashlib
import os
import re
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


def find_file(data_spec, relative_paths, origin=None, origin_sha256=None, origin_md5=None):
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
    _download(origin, path, origin_sha256, origin_md5)
    return path


def _download(url, path, expected_sha256, expected_md5=None):
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
        if expected_md5 and _md5_of(tmp) != expected_md5:
            raise DataError("download of %s does not match its published MD5 %s" % (url, expected_md5))
        os.rename(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _md5_of(path):
    digest = hashlib.md5()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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
    return "first %d of %d train, first %d of %d test" % (
        min(n_train or full_train, full_train), full_train, min(n_test or full_test, full_test), full_test)


# ---------------------------------------------------------------- CIFAR-10

CIFAR10_ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"  # as keras/datasets/cifar10.py
CIFAR10_MD5 = "c58f30108f718f92721af3b95e74349a"  # published on https://www.cs.toronto.edu/~kriz/cifar.html
CIFAR10_TARBALL = "cifar10/cifar-10-python.tar.gz"
CIFAR10_SUBSET = "cifar10/cifar10_train_first4000.npz"
CIFAR10_FIRST_TRAIN_LABELS = [6, 9, 9, 4, 1, 1, 2, 7, 8, 3]
CIFAR10_SUBSET_HOLDOUT = 1000  # the last images of the 4000-image subset stand in for the missing test set


def load_cifar10(spec):
    """(x_train, y_train), (x_test, y_test) as uint8 (N, 32, 32, 3) images and int labels, and provenance.

    The full CIFAR-10 (cifar-10-python.tar.gz, Keras' source) when the data directory or the cache has it
    (or it can be downloaded); otherwise, in a data directory, the 4000-image training subset of shared/data:
    its first 3000 images train and its last 1000 are held out as the test set (recorded in the notes).
    """
    data_spec = spec["data"]
    if data_spec.get("source") == "synthetic":
        return synthetic_cifar10(spec)
    data_dir = data_spec.get("dir")
    subset_path = os.path.join(data_dir, CIFAR10_SUBSET) if data_dir else None
    tarball = _first_file(data_dir, [CIFAR10_TARBALL, "cifar-10-python.tar.gz"]) if data_dir else None
    if data_dir and tarball is None and subset_path and os.path.isfile(subset_path):
        return _load_cifar10_subset(spec, subset_path)
    if tarball is None:
        try:
            tarball = find_file(data_spec, [CIFAR10_TARBALL, "cifar-10-python.tar.gz"], CIFAR10_ORIGIN,
                                origin_md5=CIFAR10_MD5)
        except DataError as exc:
            raise DataError("%s (or, for a training-only run, put the 4000-image subset at %s)"
                            % (exc, os.path.join(data_dir or "<data dir>", CIFAR10_SUBSET)))
    (x_train, y_train), (x_test, y_test) = read_cifar10_tarball(tarball)
    check_cifar10(tarball, x_train, y_train, (50000, 32, 32, 3))
    check_cifar10(tarball, x_test, y_test, (10000, 32, 32, 3), first_labels=None)
    n_train, n_test = spec.get("train_samples"), spec.get("test_samples")
    x_train, y_train = subset([x_train, y_train], n_train)
    x_test, y_test = subset([x_test, y_test], n_test)
    info = provenance("real", "cifar10", tarball, {"train": len(x_train), "test": len(x_test)},
                      _subset_note(n_train, n_test, 50000, 10000),
                      ["full CIFAR-10 from cifar-10-python.tar.gz; checked by content: shapes, dtype, labels"])
    return (x_train, y_train), (x_test, y_test), info


def _first_file(folder, relative_paths):
    for rel in relative_paths:
        path = os.path.join(folder, rel)
        if os.path.isfile(path):
            return path
    return None


def _load_cifar10_subset(spec, path):
    with np.load(path, allow_pickle=False) as f:
        x, y = f["x_train"], f["y_train"].reshape(-1)
    check_cifar10(path, x, y, (4000, 32, 32, 3))
    cut = len(x) - CIFAR10_SUBSET_HOLDOUT
    x_train, y_train, x_test, y_test = x[:cut], y[:cut], x[cut:], y[cut:]
    n_train, n_test = spec.get("train_samples"), spec.get("test_samples")
    x_train, y_train = subset([x_train, y_train], n_train)
    x_test, y_test = subset([x_test, y_test], n_test)
    note = "training images 0..%d of CIFAR-10 (no test set in the data directory): train on the first %d, " \
           "test on the held-out images %d..%d" % (len(x) - 1, len(x_train), cut, cut + len(x_test) - 1)
    info = provenance("real", "cifar10", path, {"train": len(x_train), "test": len(x_test)}, note,
                      ["CIFAR-10 training subset (4000 images); the test metrics are on held-out training "
                       "images, not on CIFAR-10's test set",
                       "checked by content: shapes, dtype, label range, first labels"])
    return (x_train, y_train), (x_test, y_test), info


def read_cifar10_tarball(path):
    """The batches of cifar-10-python.tar.gz as keras.datasets.cifar10 reads them, in channels-last order."""
    import pickle
    import tarfile

    def batch(tar, name):
        member = tar.extractfile("cifar-10-batches-py/" + name)
        if member is None:
            raise DataError("%s has no cifar-10-batches-py/%s; is it cifar-10-python.tar.gz?" % (path, name))
        d = pickle.load(member, encoding="bytes")
        data = np.asarray(d[b"data"], dtype="uint8").reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
        return data, np.asarray(d[b"labels"], dtype="uint8")

    try:
        with tarfile.open(path, "r:gz") as tar:
            parts = [batch(tar, "data_batch_%d" % i) for i in range(1, 6)]
            x_test, y_test = batch(tar, "test_batch")
    except (tarfile.TarError, KeyError, EOFError, OSError) as exc:
        raise DataError("%s is not a readable cifar-10-python.tar.gz (%s); download it again from %s"
                        % (path, exc, CIFAR10_ORIGIN))
    x_train = np.concatenate([p[0] for p in parts])
    y_train = np.concatenate([p[1] for p in parts])
    return (x_train, y_train), (x_test, y_test)


def check_cifar10(path, x, y, shape, first_labels=CIFAR10_FIRST_TRAIN_LABELS):
    problems = []
    if tuple(x.shape) != shape:
        problems.append("images have shape %s, expected %s" % (tuple(x.shape), shape))
    if x.dtype != np.uint8:
        problems.append("dtype %s, expected uint8" % x.dtype)
    if len(y) != len(x):
        problems.append("%d labels for %d images" % (len(y), len(x)))
    elif len(y) and (y.min() < 0 or y.max() > 9):
        problems.append("labels outside 0..9")
    elif first_labels is not None and list(y[:len(first_labels)]) != first_labels:
        problems.append("first labels %s differ from CIFAR-10's %s" % (list(y[:len(first_labels)]), first_labels))
    if problems:
        raise DataError("%s is not CIFAR-10: %s" % (path, "; ".join(problems)))


def synthetic_cifar10(spec):
    rng = np.random.RandomState(spec.get("seed", 0))
    n_train = spec.get("train_samples") or 50000
    n_test = spec.get("test_samples") or 10000
    x_train = rng.randint(0, 256, size=(n_train, 32, 32, 3)).astype("uint8")
    x_test = rng.randint(0, 256, size=(n_test, 32, 32, 3)).astype("uint8")
    y_train = rng.randint(0, 10, size=(n_train,)).astype("uint8")
    y_test = rng.randint(0, 10, size=(n_test,)).astype("uint8")
    info = provenance("synthetic", "cifar10", None, {"train": n_train, "test": n_test}, None,
                      ["uniform random pixels and labels with CIFAR-10's shapes; accuracy is meaningless"])
    return (x_train, y_train), (x_test, y_test), info


# ---------------------------------------------------------------- bAbI

BABI_ORIGIN = "https://s3.amazonaws.com/text-datasets/babi_tasks_1-20_v1-2.tar.gz"  # as examples/babi_rnn.py
BABI_TARBALL = "babi/babi-tasks-v1-2.tar.gz"
# The upstream example's default is en/qa2 (1k); the benchmark uses QA1 with 10,000 questions (in shared/data).
BABI_CHALLENGE = "tasks_1-20_v1-2/en-10k/qa1_single-supporting-fact_{}.txt"
BABI_UPSTREAM_CHALLENGE = "tasks_1-20_v1-2/en/qa2_two-supporting-facts_{}.txt"


def tokenize(sentence):
    """The tokens of a sentence including punctuation, as babi_rnn.py's tokenize() meant them.

    Upstream splits on '(\\W+)?'; Python 3.7+ also splits that pattern on empty matches (into characters),
    so the equivalent '(\\W+)' is used: the same tokens Python 2 and 3.6 gave.
    >>> tokenize('Bob dropped the apple. Where is the apple?')
    ['Bob', 'dropped', 'the', 'apple', '.', 'Where', 'is', 'the', 'apple', '?']
    """
    return [x.strip() for x in re.split(r"(\W+)", sentence) if x and x.strip()]


def parse_stories(lines, only_supporting=False):
    """Parse bAbI lines (bytes or str) into (substory sentences, question tokens, answer), as upstream."""
    data = []
    story = []
    for line in lines:
        if isinstance(line, bytes):
            line = line.decode("utf-8")
        line = line.strip()
        if not line:
            continue
        nid, line = line.split(" ", 1)
        nid = int(nid)
        if nid == 1:
            story = []
        if "\t" in line:
            q, a, supporting = line.split("\t")
            q = tokenize(q)
            if only_supporting:
                substory = [story[i - 1] for i in map(int, supporting.split())]
            else:
                substory = [x for x in story if x]
            data.append((substory, q, a))
            story.append("")
        else:
            story.append(tokenize(line))
    return data


def get_stories(lines, only_supporting=False, max_length=None):
    """Stories flattened into one token list each; stories of max_length tokens or more are dropped."""
    def flatten(sentences):
        return [token for sentence in sentences for token in sentence]
    data = parse_stories(lines, only_supporting=only_supporting)
    return [(flatten(story), q, answer) for story, q, answer in data
            if not max_length or len(flatten(story)) < max_length]


def pad_sequences(sequences, maxlen):
    """keras.preprocessing.sequence.pad_sequences with its defaults: int32, pad and truncate at the front, 0."""
    out = np.zeros((len(sequences), maxlen), dtype="int32")
    for i, seq in enumerate(sequences):
        seq = list(seq)[-maxlen:]
        if seq:
            out[i, -len(seq):] = seq
    return out


def vectorize_stories(data, word_idx, story_maxlen, query_maxlen):
    xs, xqs, ys = [], [], []
    for story, query, answer in data:
        xs.append([word_idx[w] for w in story])
        xqs.append([word_idx[w] for w in query])
        y = np.zeros(len(word_idx) + 1, dtype="float32")  # index 0 is reserved for padding
        y[word_idx[answer]] = 1
        ys.append(y)
    return pad_sequences(xs, story_maxlen), pad_sequences(xqs, query_maxlen), np.array(ys, dtype="float32")


def babi_vocabulary(train, test):
    """babi_rnn.py's preprocessing: vocabulary from train + test, sorted, index 0 reserved for padding."""
    vocab = sorted(set(w for story, q, answer in train + test for w in story + q + [answer]))
    word_idx = dict((c, i + 1) for i, c in enumerate(vocab))
    story_maxlen = max(len(x) for x, _, _ in train + test)
    query_maxlen = max(len(x) for _, x, _ in train + test)
    return word_idx, story_maxlen, query_maxlen


def read_babi_lines(data_spec, challenge):
    """The train and test lines of a bAbI task, from the data directory (files or the tarball) or a download.

    Returns (train_lines, test_lines, paths).
    """
    names = [challenge.format(part) for part in ("train", "test")]
    data_dir = data_spec.get("dir")
    if data_dir:
        files = [os.path.join(data_dir, "babi", name) for name in names]
        if all(os.path.isfile(f) for f in files):
            return _read_lines(files[0]), _read_lines(files[1]), files
        tarball = _first_file(data_dir, [BABI_TARBALL, "babi/babi_tasks_1-20_v1-2.tar.gz",
                                         "babi-tasks-v1-2.tar.gz", "babi_tasks_1-20_v1-2.tar.gz"])
        if tarball is None:
            missing = [f for f in files if not os.path.isfile(f)]
            raise DataError(
                "bAbI task file %s not found in the data directory %s; put the task files at %s (layout as in "
                "shared/data), or the whole archive at %s (from %s), or run without --data-dir to download it"
                % (missing[0], data_dir, os.path.join(data_dir, "babi", os.path.dirname(names[0])),
                   os.path.join(data_dir, BABI_TARBALL), BABI_ORIGIN))
    else:
        tarball = find_file(data_spec, [BABI_TARBALL], BABI_ORIGIN)
    return _read_tar_lines(tarball, names[0]), _read_tar_lines(tarball, names[1]), [tarball]


def _read_lines(path):
    with open(path, "rb") as fh:
        return fh.readlines()


def _read_tar_lines(path, name):
    import tarfile
    try:
        with tarfile.open(path) as tar:
            member = tar.extractfile(name)
            if member is None:
                raise KeyError(name)
            return member.readlines()
    except KeyError:
        raise DataError("%s has no %s; is it the bAbI archive from %s?" % (path, name, BABI_ORIGIN))
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise DataError("%s is not a readable bAbI archive (%s); download it again from %s" % (path, exc, BABI_ORIGIN))


def load_babi(spec, challenge=BABI_CHALLENGE):
    """bAbI through babi_rnn.py's preprocessing. Returns ((x, xq, y), (tx, txq, ty), meta, provenance).

    meta: vocab_size, story_maxlen, query_maxlen (from the full train + test set, whatever the subset).
    """
    data_spec = spec["data"]
    if data_spec.get("source") == "synthetic":
        return synthetic_babi(spec)
    train_lines, test_lines, paths = read_babi_lines(data_spec, challenge)
    train, test = get_stories(train_lines), get_stories(test_lines)
    if not train or not test:
        raise DataError("%s: no bAbI questions found (%d train, %d test); is it a bAbI task file?"
                        % (", ".join(paths), len(train), len(test)))
    word_idx, story_maxlen, query_maxlen = babi_vocabulary(train, test)
    n_train, n_test = spec.get("train_samples"), spec.get("test_samples")
    full_train, full_test = len(train), len(test)
    train, test = train[:n_train] if n_train else train, test[:n_test] if n_test else test
    x, xq, y = vectorize_stories(train, word_idx, story_maxlen, query_maxlen)
    tx, txq, ty = vectorize_stories(test, word_idx, story_maxlen, query_maxlen)
    meta = {"vocab_size": len(word_idx) + 1, "story_maxlen": story_maxlen, "query_maxlen": query_maxlen,
            "challenge": challenge}
    info = provenance("real", "babi", paths[0], {"train": len(train), "test": len(test)},
                      _subset_note(n_train, n_test, full_train, full_test),
                      ["task %s (upstream default: %s)" % (challenge.format("{train,test}"),
                                                          BABI_UPSTREAM_CHALLENGE.format("{train,test}")),
                       "vocabulary and maximum lengths from the full train + test set: vocab_size %d, "
                       "story_maxlen %d, query_maxlen %d" % (meta["vocab_size"], story_maxlen, query_maxlen)])
    info["sha256"] = dict((os.path.basename(p), sha256_of(p)) for p in paths)
    return (x, xq, y), (tx, txq, ty), meta, info


BABI_QA1_10K_META = {"vocab_size": 22, "story_maxlen": 68, "query_maxlen": 4, "train": 10000, "test": 1000}


def synthetic_babi(spec):
    """Random token ids with the shapes of QA1 en-10k (vocab 22, story 68, query 4)."""
    rng = np.random.RandomState(spec.get("seed", 0))
    m = BABI_QA1_10K_META
    n_train = spec.get("train_samples") or m["train"]
    n_test = spec.get("test_samples") or m["test"]

    def part(n):
        x = rng.randint(1, m["vocab_size"], size=(n, m["story_maxlen"])).astype("int32")
        xq = rng.randint(1, m["vocab_size"], size=(n, m["query_maxlen"])).astype("int32")
        labels = rng.randint(1, m["vocab_size"], size=(n,))
        y = np.eye(m["vocab_size"], dtype="float32")[labels]
        return x, xq, y

    meta = {"vocab_size": m["vocab_size"], "story_maxlen": m["story_maxlen"], "query_maxlen": m["query_maxlen"],
            "challenge": None}
    info = provenance("synthetic", "babi", None, {"train": n_train, "test": n_test}, None,
                      ["uniform random token ids with the shapes of bAbI QA1 en-10k; accuracy is meaningless"])
    return part(n_train), part(n_test), meta, info
