"""The 2017 article's numbers on one NVIDIA Tesla K80 (Azure NC6), as data.

Source: "The Search for the Fastest Keras Deep Learning Backend" (Jasmeet Bhatia, KDnuggets, September 2017)
and the surviving outputs of its notebooks (github jasmeetsb/deep-learning-keras-projects, commits 2a80588
and 51203be), as gathered in the project's docs/reference.md. Seconds per epoch are the whole `fit`
(validation included) divided by the epochs. Keras 2.0.8 with TensorFlow 1.3.0, CNTK 2.1, Theano 0.9.0;
MXNet on the dmlc Keras 1.2.2 fork.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

HARDWARE = "NVIDIA Tesla K80 (Azure NC6), 2017"
CITATION = ("J. Bhatia, \"The Search for the Fastest Keras Deep Learning Backend\", KDnuggets, Sept. 2017; "
            "notebook outputs in jasmeetsb/deep-learning-keras-projects (commits 2a80588, 51203be)")

NOTEBOOK = "notebook output"
TEXT = "article text"


@dataclass(frozen=True)
class ArticleNumber:
    """One backend's result for one workload on the K80."""

    workload: str
    backend: str  # the project's backend names: tensorflow, cntk, theano, mxnet
    s_per_epoch: float | None  # a single figure (the middle of a range the text gives)
    s_per_epoch_text: str  # as printed: '2.77', '2.5-2.7', '22.9 or 29.6'
    test_accuracy: float | None
    epochs: int
    source: str
    note: str = ""


BACKEND_LABELS = {"tensorflow": "TF 1.3", "cntk": "CNTK 2.1", "theano": "Theano 0.9", "mxnet": "MXNet (Keras 1.2.2)"}

NUMBERS: tuple[ArticleNumber, ...] = (
    ArticleNumber("mnist_mlp", "tensorflow", 2.77, "2.77", 0.9846, 20, NOTEBOOK, "55.3 s for 20 epochs"),
    ArticleNumber("mnist_mlp", "cntk", 2.76, "2.76", 0.9822, 20, NOTEBOOK, "55.2 s for 20 epochs"),
    ArticleNumber("mnist_mlp", "mxnet", 1.49, "1.49", 0.9841, 20, NOTEBOOK, "29.7 s for 20 epochs; text: 1.4"),
    ArticleNumber("mnist_mlp", "theano", 2.6, "2.5-2.7", None, 20, TEXT, "no Theano output survived"),
    ArticleNumber("mnist_cnn", "tensorflow", 10.3, "10.3", 0.9909, 12, NOTEBOOK, "123 s for 12 epochs"),
    ArticleNumber("mnist_cnn", "cntk", 14.9, "14.9", 0.9904, 12, NOTEBOOK, "179 s for 12 epochs"),
    ArticleNumber("mnist_hrnn", "tensorflow", 179.0, "179", 0.9878, 5, NOTEBOOK, "895 s for 5 epochs"),
    ArticleNumber("mnist_hrnn", "cntk", 164.0, "164", 0.9859, 5, NOTEBOOK, "821 s for 5 epochs"),
    ArticleNumber("mnist_hrnn", "mxnet", 163.0, "162-164", None, 5, TEXT, "notebook: no output"),
    ArticleNumber("babi_rnn", "tensorflow", 22.6, "22.6", None, 40, NOTEBOOK,
                  "904 s for 40 epochs on QA2 1k (here: QA1 en-10k); one test accuracy (0.291) survived, unlabeled"),
    ArticleNumber("babi_rnn", "cntk", 9.5, "9.5", None, 40, NOTEBOOK,
                  "380 s for 40 epochs on QA2 1k; the text claims TF and Theano over twice as fast as CNTK"),
    ArticleNumber("cifar10_cnn", "cntk", 22.9, "22.9 or 29.6", None, 50, NOTEBOOK,
                  "1143 s or 1480 s for 50 epochs, both in a session that printed 'Using CNTK backend' (no "
                  "TensorFlow cifar10 timing survived); 0.77 test accuracy on augmented test batches"),
    ArticleNumber("cifar10_cnn", "mxnet", 23.6, "23.6", None, 100, NOTEBOOK,
                  "2363 s over 100 epochs (the notebook sets epochs = 100)"),
)


def for_workload(workload: str) -> list[ArticleNumber]:
    return [n for n in NUMBERS if n.workload == workload]


def covers(workloads: Iterable[str]) -> bool:
    """Whether the article measured any of these workloads (else its K80 columns and claims could only say "-" or
    "not run": a user's model, today's models)."""
    return any(for_workload(w) for w in workloads)


def for_cell(workload: str, backend: str) -> ArticleNumber | None:
    """The article's number for the same workload and backend, if it has one."""
    return next((n for n in NUMBERS if n.workload == workload and n.backend == backend), None)


def summary_line(workload: str) -> str:
    """e.g. 'TF 1.3 2.77, CNTK 2.1 2.76, MXNet (Keras 1.2.2) 1.49, Theano 0.9 2.5-2.7 s/epoch'."""
    numbers = for_workload(workload)
    if not numbers:
        return ""
    return ", ".join(f"{BACKEND_LABELS[n.backend]} {n.s_per_epoch_text}" for n in numbers) + " s/epoch"


def ordering(workload: str) -> str:
    """The article's backends on a workload, fastest first, e.g. 'MXNet (Keras 1.2.2) 1.49 < CNTK 2.1 2.76 < ...'."""
    numbers = sorted((n for n in for_workload(workload) if n.s_per_epoch), key=lambda n: n.s_per_epoch or 0)
    return " < ".join(f"{BACKEND_LABELS[n.backend]} {n.s_per_epoch_text}" for n in numbers)
