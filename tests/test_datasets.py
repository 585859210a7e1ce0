"""The dataset loaders of workloads/datasets.py on the real files (shared/data), the bAbI parser, the CIFAR-10
archive reader and the download path (a file:// origin), synthetic shapes and the missing-data errors.

datasets.py runs inside the environments; it needs only NumPy, so it is tested here directly.
"""

from __future__ import annotations

import hashlib
import io
import pickle
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "workloads"))
import datasets  # noqa: E402

QA1 = "babi/tasks_1-20_v1-2/en-10k/qa1_single-supporting-fact_{}.txt"


def spec(data_dir: Path | None, source: str = "real", cache_dir: Path | None = None, **extra: object) -> dict:
    base = {"seed": 1337, "train_samples": None, "test_samples": None,
            "data": {"source": source, "dir": str(data_dir) if data_dir else None,
                     "cache_dir": str(cache_dir) if cache_dir else None}}
    base.update(extra)
    return base


# ---------------------------------------------------------------- CIFAR-10

def test_cifar10_subset_holds_out_the_last_1000_images(data_dir: Path) -> None:
    (x_train, y_train), (x_test, y_test), info = datasets.load_cifar10(spec(data_dir))
    assert x_train.shape == (3000, 32, 32, 3) and x_test.shape == (1000, 32, 32, 3)
    assert x_train.dtype == np.uint8 and y_train.shape == (3000,) and y_test.shape == (1000,)
    assert list(y_train[:10]) == [6, 9, 9, 4, 1, 1, 2, 7, 8, 3]
    with np.load(data_dir / datasets.CIFAR10_SUBSET) as f:
        assert np.array_equal(x_test, f["x_train"][3000:])  # held out, never trained on
    assert info["source"] == "real" and info["samples"] == {"train": 3000, "test": 1000}
    assert info["sha256"]["cifar10_train_first4000.npz"].startswith("0836cfd5")
    assert "no test set" in info["subset"] and "3000..3999" in info["subset"]
    assert any("held-out training images" in n for n in info["notes"])


def test_cifar10_subset_respects_sample_limits(data_dir: Path) -> None:
    (x_train, _), (x_test, _), info = datasets.load_cifar10(spec(data_dir, train_samples=100, test_samples=2000))
    assert len(x_train) == 100 and len(x_test) == 1000
    assert info["samples"] == {"train": 100, "test": 1000}
    assert "first 100" in info["subset"] and "3000..3999" in info["subset"]


def cifar_tarball(path: Path, x: np.ndarray, y: np.ndarray) -> Path:
    """cifar-10-python.tar.gz's layout (pickled channels-first batches), filled with real images."""
    with tarfile.open(path, "w:gz") as tar:
        names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
        for i, name in enumerate(names):
            part = slice(i * 500, (i + 1) * 500)
            batch = {b"data": x[part].transpose(0, 3, 1, 2).reshape(500, 3072),
                     b"labels": [int(v) for v in y[part]], b"batch_label": name.encode()}
            blob = pickle.dumps(batch, protocol=2)
            member = tarfile.TarInfo("cifar-10-batches-py/" + name)
            member.size = len(blob)
            tar.addfile(member, io.BytesIO(blob))
    return path


def test_cifar10_archive_reader_keeps_pixels_and_labels(data_dir: Path, tmp_path: Path) -> None:
    with np.load(data_dir / datasets.CIFAR10_SUBSET) as f:
        x, y = f["x_train"][:3000], f["y_train"][:3000]
    path = cifar_tarball(tmp_path / "cifar-10-python.tar.gz", x, y)
    (x_train, y_train), (x_test, y_test) = datasets.read_cifar10_tarball(str(path))
    assert np.array_equal(x_train, x[:2500]) and np.array_equal(y_train, y[:2500])
    assert np.array_equal(x_test, x[2500:3000]) and np.array_equal(y_test, y[2500:3000])


def test_cifar10_download_goes_through_the_cache_and_checks_md5(data_dir: Path, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    with np.load(data_dir / datasets.CIFAR10_SUBSET) as f:
        x, y = f["x_train"][:3000], f["y_train"][:3000]
    origin = cifar_tarball(tmp_path / "origin.tar.gz", x, y)
    monkeypatch.setattr(datasets, "CIFAR10_ORIGIN", origin.as_uri())
    monkeypatch.setattr(datasets, "CIFAR10_MD5", "0" * 32)
    with pytest.raises(datasets.DataError, match="does not match its published MD5"):
        datasets.load_cifar10(spec(None, cache_dir=tmp_path / "cache"))
    assert not (tmp_path / "cache" / datasets.CIFAR10_TARBALL).exists()
    monkeypatch.setattr(datasets, "CIFAR10_MD5", hashlib.md5(origin.read_bytes()).hexdigest())
    # The reader's content check wants CIFAR-10's 50000/10000 images: this small archive must be refused,
    # after the download landed in the cache.
    with pytest.raises(datasets.DataError, match=r"is not CIFAR-10: images have shape \(2500, 32, 32, 3\)"):
        datasets.load_cifar10(spec(None, cache_dir=tmp_path / "cache"))
    assert (tmp_path / "cache" / datasets.CIFAR10_TARBALL).read_bytes() == origin.read_bytes()


def test_cifar10_content_check_rejects_wrong_labels(tmp_path: Path) -> None:
    x = np.zeros((4000, 32, 32, 3), dtype="uint8")
    y = np.zeros(4000, dtype="uint8")
    bad = tmp_path / datasets.CIFAR10_SUBSET
    bad.parent.mkdir(parents=True)
    np.savez(bad, x_train=x, y_train=y)
    with pytest.raises(datasets.DataError, match="first labels .* differ from CIFAR-10's"):
        datasets.load_cifar10(spec(tmp_path))


def test_cifar10_missing_names_the_file_and_the_folder(tmp_path: Path) -> None:
    with pytest.raises(datasets.DataError) as err:
        datasets.load_cifar10(spec(tmp_path))
    message = str(err.value)
    assert "cifar10/cifar-10-python.tar.gz" in message and str(tmp_path) in message
    assert datasets.CIFAR10_SUBSET in message and "www.cs.toronto.edu" in message


# ---------------------------------------------------------------- bAbI

def test_tokenize_matches_the_upstream_docstring() -> None:
    assert datasets.tokenize("Bob dropped the apple. Where is the apple?") == [
        "Bob", "dropped", "the", "apple", ".", "Where", "is", "the", "apple", "?"]


def test_parse_stories_follows_upstream() -> None:
    lines = [b"1 Mary moved to the bathroom.\n", b"2 John went to the hallway.\n",
             b"3 Where is Mary? \tbathroom\t1\n", b"4 Daniel went back to the hallway.\n",
             b"5 Where is Daniel? \thallway\t4\n", b"1 Sandra journeyed to the garden.\n",
             b"2 Where is Sandra? \tgarden\t1\n"]
    data = datasets.parse_stories(lines)
    assert data[0] == ([["Mary", "moved", "to", "the", "bathroom", "."], ["John", "went", "to", "the", "hallway", "."]],
                       ["Where", "is", "Mary", "?"], "bathroom")
    assert len(data[1][0]) == 3  # questions are not part of the story that follows them
    assert data[2][0] == [["Sandra", "journeyed", "to", "the", "garden", "."]]  # nid 1 starts a new story
    assert datasets.parse_stories(lines, only_supporting=True)[1][0] == [
        ["Daniel", "went", "back", "to", "the", "hallway", "."]]
    flat = datasets.get_stories(lines)
    assert flat[0][0][:7] == ["Mary", "moved", "to", "the", "bathroom", ".", "John"]
    assert [len(s) for s, _, _ in datasets.get_stories(lines, max_length=13)] == [12, 6]  # the 19-token one dropped


def test_babi_qa1_10k_upstream_preprocessing(data_dir: Path) -> None:
    (x, xq, y), (tx, txq, ty), meta, info = datasets.load_babi(spec(data_dir))
    assert meta["vocab_size"] == 22 and meta["story_maxlen"] == 68 and meta["query_maxlen"] == 4
    assert x.shape == (10000, 68) and xq.shape == (10000, 4) and y.shape == (10000, 22)
    assert tx.shape == (1000, 68) and txq.shape == (1000, 4) and ty.shape == (1000, 22)
    assert x.dtype == np.int32 and y.dtype == np.float32
    assert (y[:, 0] == 0).all() and (y.sum(axis=1) == 1).all()  # index 0 reserved for padding
    train = datasets.get_stories((data_dir / QA1.format("train")).read_bytes().splitlines(True))
    word_idx, _, _ = datasets.babi_vocabulary(train, [])
    # first question: story "Mary moved to the bathroom . John went to the hallway ." pre-padded to 68
    story = [word_idx[w] for w in "Mary moved to the bathroom . John went to the hallway .".split()]
    assert list(x[0, -12:]) == story and not x[0, :-12].any()
    assert list(xq[0]) == [word_idx[w] for w in ["Where", "is", "Mary", "?"]]
    assert y[0].argmax() == word_idx["bathroom"]
    assert info["source"] == "real" and info["samples"] == {"train": 10000, "test": 1000}
    assert info["sha256"]["qa1_single-supporting-fact_train.txt"].startswith("c55ab222")
    assert any("en/qa2" in n for n in info["notes"])  # the upstream default is named


def test_babi_subset_keeps_the_full_vocabulary(data_dir: Path) -> None:
    (x, xq, y), (tx, _, _), meta, info = datasets.load_babi(spec(data_dir, train_samples=512, test_samples=256))
    assert x.shape == (512, 68) and y.shape == (512, 22) and tx.shape == (256, 68)
    assert meta["vocab_size"] == 22
    assert info["subset"] == "first 512 of 10000 train, first 256 of 1000 test"


def test_babi_reads_the_archive_as_upstream(data_dir: Path, tmp_path: Path) -> None:
    archive = tmp_path / "data" / datasets.BABI_TARBALL
    archive.parent.mkdir(parents=True)
    with tarfile.open(archive, "w:gz") as tar:
        for part in ("train", "test"):
            tar.add(data_dir / QA1.format(part), arcname=datasets.BABI_CHALLENGE.format(part))
    from_files = datasets.load_babi(spec(data_dir))
    from_tar = datasets.load_babi(spec(tmp_path / "data"))
    for a, b in zip(from_files[0] + from_files[1], from_tar[0] + from_tar[1]):
        assert np.array_equal(a, b)
    assert from_tar[3]["path"] == str(archive)


def test_babi_missing_names_the_file_and_the_folder(tmp_path: Path) -> None:
    with pytest.raises(datasets.DataError) as err:
        datasets.load_babi(spec(tmp_path))
    message = str(err.value)
    assert "qa1_single-supporting-fact_train.txt" in message and str(tmp_path) in message
    assert datasets.BABI_ORIGIN in message


def test_babi_rejects_a_file_without_questions(tmp_path: Path) -> None:
    for part in ("train", "test"):
        path = tmp_path / QA1.format(part)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("1 Mary moved to the bathroom.\n")
    with pytest.raises(datasets.DataError, match="no bAbI questions found"):
        datasets.load_babi(spec(tmp_path))


# ---------------------------------------------------------------- MNIST, synthetic data

def test_mnist_missing_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(datasets.DataError, match="mnist/mnist.npz"):
        datasets.load_mnist(spec(tmp_path))


def test_synthetic_data_has_the_real_shapes_and_says_so(data_dir: Path) -> None:
    (x, y), (tx, ty), info = datasets.load_cifar10(spec(None, source="synthetic", train_samples=64, test_samples=32))
    assert x.shape == (64, 32, 32, 3) and x.dtype == np.uint8 and tx.shape == (32, 32, 32, 3)
    assert info["source"] == "synthetic" and info["path"] is None
    (x, xq, y), (tx, txq, ty), meta, info = datasets.load_babi(spec(None, source="synthetic"))
    real = datasets.load_babi(spec(data_dir))
    assert [a.shape for a in (x, xq, y, tx, txq, ty)] == [a.shape for a in real[0] + real[1]]
    assert {k: meta[k] for k in ("vocab_size", "story_maxlen", "query_maxlen")} == {
        k: real[2][k] for k in ("vocab_size", "story_maxlen", "query_maxlen")}
    assert info["source"] == "synthetic" and "meaningless" in info["notes"][0]
    (x, y), (tx, ty), info = datasets.load_mnist(spec(None, source="synthetic", train_samples=10, test_samples=5))
    assert x.shape == (10, 28, 28) and tx.shape == (5, 28, 28) and info["source"] == "synthetic"
