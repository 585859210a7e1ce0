"""Inside real environments: the prefetching feed (order kept, errors raised in the
consumer, the queue bounded at 10) and cifar10's optional augmented evaluation (the article's
evaluate_generator) on Keras 1.2.2, 2.3.1 and 3."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from orchestrator.core import workload_files
from orchestrator.environments.layout import cell_process_env
from orchestrator.config.load import load_matrix
from orchestrator.runtimes.local import LocalRuntime

pytestmark = pytest.mark.integration

PREFETCH_PROBE = r"""
import json, threading, time
import compat
pulled = []
def source():
    for i in range(100):
        pulled.append(i)
        yield i
feed = compat.Prefetcher(source())
time.sleep(1.0)  # the thread fills the queue and then blocks
buffered = len(pulled)
first = [next(feed) for _ in range(25)]
def failing():
    yield 1
    raise RuntimeError("augmentation broke")
broken = compat.Prefetcher(failing())
got, error = next(broken), None
try:
    next(broken)
except RuntimeError as exc:
    error = str(exc)
print("PROBE " + json.dumps({"buffered": buffered, "first": first, "got": got, "error": error,
                             "thread": [t.name for t in threading.enumerate() if t.name == "orchestrate-prefetch"],
                             "feeding": compat.data_feeding()}))
"""

CIFAR_PROBE = r"""
import json
import numpy as np
import compat, cifar10_cnn
compat.set_seed(0)
rng = np.random.RandomState(0)
shape = (64, 3, 32, 32) if compat.image_data_format() == "channels_first" else (64, 32, 32, 3)
data = {"x_train": rng.rand(*shape).astype("float32"), "y_train": compat.one_hot(rng.randint(0, 10, 64), 10),
        "x_test": rng.rand(*shape).astype("float32"), "y_test": compat.one_hot(rng.randint(0, 10, 64), 10)}
spec = {"batch_size": 32, "steps_per_epoch": 1}
model, info = cifar10_cnn.build(spec, data)
print("PROBE " + json.dumps({"metrics": cifar10_cnn.evaluate(spec, model, data), "deviations": info["deviations"],
                             "hyperparameters": info["hyperparameters"]}))
"""


def _probe(runtime: LocalRuntime, env_name: str, script: str, extra: dict[str, str]) -> dict:
    prepared = runtime.prepare(env_name)
    env = cell_process_env(prepared.paths, prepared.environment, threads=1, seed=0)
    env.update(extra)
    proc = subprocess.run([str(prepared.paths.python), "-c", script], env=env, cwd=workload_files.workloads_dir(),
                          capture_output=True, text=True, timeout=600)
    line = [s for s in proc.stdout.splitlines() if s.startswith("PROBE ")]
    assert proc.returncode == 0 and line, (env_name, proc.stderr[-3000:])
    return json.loads(line[0][len("PROBE "):])


@pytest.fixture(scope="module")
def runtime(repo: Path, env_cache: Path) -> LocalRuntime:
    return LocalRuntime(load_matrix(repo / "matrix.yaml"), env_cache, log=print)


def test_prefetcher_keeps_order_bounds_its_queue_and_raises_in_the_consumer(runtime: LocalRuntime) -> None:
    out = _probe(runtime, "keras3-jax", PREFETCH_PROBE, {})
    assert out["first"] == list(range(25))
    # a queue of 10, plus the one item the blocked thread holds while it waits to put it
    assert out["buffered"] == 11, out
    assert out["got"] == 1 and out["error"] == "augmentation broke"
    assert out["thread"], "the feed runs in its own thread"
    assert out["feeding"]["mode"] == "background thread" and out["feeding"]["queue"] == 10
    inline = _probe(runtime, "keras3-jax", "import json, compat; print('PROBE ' + json.dumps(compat.data_feeding()))",
                    {"ORCHESTRATE_DATA_FEED": "inline"})
    assert inline["mode"] == "inline" and inline["queue"] == 0


@pytest.mark.parametrize("env_name", ["mxnet-keras1", "tensorflow1", "keras3-jax"])
def test_cifar10_clean_metric_always_augmented_on_request(runtime: LocalRuntime, env_name: str) -> None:
    clean = _probe(runtime, env_name, CIFAR_PROBE, {})
    assert set(clean["metrics"]) == {"loss", "accuracy"}
    assert clean["hyperparameters"]["evaluation"] == "clean"
    assert any("evaluate_generator on augmented test batches" in d for d in clean["deviations"])
    both = _probe(runtime, env_name, CIFAR_PROBE, {"ORCHESTRATE_CIFAR10_EVAL": "augmented"})
    assert both["hyperparameters"]["evaluation"] == "clean+augmented"
    assert {"loss", "accuracy", "augmented_loss", "augmented_accuracy"} == set(both["metrics"])
    assert both["metrics"]["loss"] == pytest.approx(clean["metrics"]["loss"], rel=1e-4)  # same clean metric
    assert both["metrics"]["augmented_loss"] != both["metrics"]["loss"]  # shifted and flipped images differ
    assert any(d.endswith(": added here)") for d in both["deviations"])
    feeding = both["hyperparameters"]["data_feeding"]
    assert (feeding["mode"], feeding["queue"], feeding["workers"]) == ("background thread", 10, 1)
