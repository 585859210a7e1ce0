"""Settings that silently differ between backends: recorded per result (workloads/settings_probe.py, the settings
event, CellResult.backend_settings), compared by analysis/settings_match.py and flagged by the report (fairness
section, the terminal's ending). On constructed results; the probe itself on stand-in torch modules."""

from __future__ import annotations

import ast
import importlib.util
import io
import sys
import types
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from orchestrator.analysis import settings_match
from orchestrator.analysis.verdicts.settings import Settings
from orchestrator.core.workload_files import workloads_dir
from orchestrator.report import fairness
from orchestrator.results.io import load_cells
from orchestrator.results.schema import BackendSettings, CellResult, HostInfo, Threads
from orchestrator.rundir.layout import RunDir
from orchestrator.workflows.report import write_report
from tests.test_terminal_ending import BASE, cell, lines_of

PROBE = workloads_dir() / "settings_probe.py"

TORCH = {"framework": "torch", "float32_matmul_precision": "highest", "cuda_matmul_allow_tf32": False,
         "cudnn_allow_tf32": True, "tf32_matmul": False, "tf32_conv": True}
TF = {"framework": "tensorflow", "tensor_float_32_execution": True, "tf32_matmul": True, "tf32_conv": True}
JAX = {"framework": "jax", "default_matmul_precision": None, "tf32_matmul": True, "tf32_conv": True}
GPU_A100 = {"device": "gpu", "compute_capability": "8.0"}
CPU = {"device": "cpu"}


def result(env: str, matmul: dict[str, Any] | None, workload: str = "mnist_mlp", repeat: int = 0,
           steady: float = 10.0, **settings: Any) -> CellResult:
    r = cell("tensorflow1", workload, repeat, steady)  # then named env: the settings, not the backend, matter here
    r = r.model_copy(update={"environment": r.environment.model_copy(update={"name": env}),
                             "cell_id": r.cell_id.replace("tensorflow1", env),
                             "threads": Threads(requested=2, framework={"requested": 2})})  # read back: a fairness row
    if matmul is None:
        return r  # a result written before the settings were recorded
    return r.model_copy(update={"backend_settings": BackendSettings(matmul=matmul, **settings)})


def flags_of(results: list[CellResult]) -> list[settings_match.SettingsFlag]:
    return settings_match.compare_settings(results)


# The comparison


def test_equal_settings_raise_no_flag() -> None:
    same = dict(TORCH, **GPU_A100)
    results = [result("keras3-torch", same, steps_per_execution=1), result("tensorflow1", same, steps_per_execution=1),
               result("keras3-jax", None)]  # an old result: nothing to compare, nothing flagged
    assert flags_of(results) == []
    assert fairness.ending_lines(results) == []


def test_tf32_on_one_gpu_backend_and_off_on_another_is_flagged() -> None:
    results = [result("keras3-torch", dict(TORCH, **GPU_A100)), result("tensorflow1", dict(TF, **GPU_A100))]
    flags = flags_of(results)
    assert [(f.kind, f.flagged, f.environments) for f in flags] == [
        ("tf32_matmul", True, ("tensorflow1", "keras3-torch"))]  # convolutions: TF32 allowed on both
    message = flags[0].message
    assert message.startswith("tensorflow1 (tensor_float_32_execution on) allows TF32 in float32 matmuls while "
                              "keras3-torch (float32_matmul_precision 'highest', cudnn.allow_tf32 True) runs them")
    assert message.endswith("their times are not comparable on a GPU")
    assert fairness.ending_lines(results) == [f"settings differ: {message}"]
    # A GPU whose capability the framework did not give: NVML's for the cell's GPU decides
    host = HostInfo(device="gpu:1", gpus=[{"index": 0, "compute_capability": "7.0"},
                                          {"index": 1, "compute_capability": "9.0"}])
    unknown = [r.model_copy(update={"host": host}) for r in (result("keras3-torch", dict(TORCH, device="gpu")),
                                                             result("keras3-jax", dict(JAX, device="gpu")))]
    assert [(f.kind, f.flagged) for f in flags_of(unknown)] == [("tf32_matmul", True)]
    assert settings_match.tf32_applies(unknown[0]) == (True, "GPU 9.0")


def test_tf32_difference_on_a_cpu_host_is_recorded_not_flagged() -> None:
    results = [result("keras3-torch", dict(TORCH, **CPU)), result("keras3-tensorflow", dict(TF, **CPU))]
    flags = flags_of(results)
    assert [(f.kind, f.flagged) for f in flags] == [("tf32_matmul", False)]
    assert flags[0].message == ("keras3-tensorflow (tensor_float_32_execution on) allows TF32 in float32 matmuls "
                                "while keras3-torch (float32_matmul_precision 'highest', cudnn.allow_tf32 True) runs "
                                "them in full float32: n/a on CPU")
    assert settings_match.flagged(flags) == [] and fairness.ending_lines(results) == []
    html = fairness.html_section(results)
    assert '<ul id="settings-differ">' in html and "n/a on CPU (recorded only)" in html
    rows = {row.environment: row for row in fairness.fairness_rows(results)}
    assert rows["keras3-torch"].matmul == ("float32_matmul_precision 'highest', cudnn.allow_tf32 True: matmuls TF32 "
                                           "off, convolutions TF32 allowed (CPU)")
    assert rows["keras3-tensorflow"].matmul == "tensor_float_32_execution on: TF32 allowed (CPU)"
    # A GPU without TF32 (compute capability 7.0): recorded, not flagged, said why
    volta = [result("keras3-torch", dict(TORCH, device="gpu", compute_capability="7.0")),
             result("keras3-jax", dict(JAX, device="gpu", compute_capability="7.0"))]
    assert {(f.flagged, f.message.split(": ")[-1]) for f in flags_of(volta)} == {
        (False, "TF32 needs compute capability 8.0 or later)")}


def test_recompiles_graph_breaks_and_fallbacks_are_flagged() -> None:
    compiled = {"requested": True, "compiled": True, "frames_compiled": 9, "recompiles": 7, "graph_breaks": 2,
                "graph_break_reasons": ["generic_jump TensorVariable()"]}
    eager = {"requested": False, "compiled": False}
    results = [result("keras3-torch", dict(TORCH, **CPU), repeat=0, torch_compile=dict(compiled, recompiles=3)),
               result("keras3-torch", dict(TORCH, **CPU), repeat=1, torch_compile=compiled),
               result("keras3-jax", dict(JAX, **CPU), steps_per_execution=32),
               result("keras3-tensorflow", dict(TF, **CPU), steps_per_execution=1)]
    results[2].model.hyperparameters["jit_compile"] = {"requested": True, "resolved": False, "means": "eager"}
    flags = {f.kind: f for f in flags_of(results) if f.flagged}
    assert set(flags) == {"recompiles", "graph_breaks", "steps_per_execution", "jit_fallback"}
    assert flags["recompiles"].message == ("keras3-torch recompiled 7 times during fit (torch.compile): its epoch "
                                           "times include compiling")  # the most over its repeats
    assert "broke the graph 2 times during fit (first: generic_jump TensorVariable())" in flags["graph_breaks"].message
    assert flags["steps_per_execution"].message.startswith(
        "steps_per_execution differs (keras3-jax 32, keras3-tensorflow 1)")
    assert flags["jit_fallback"].message == ("keras3-jax: jit_compile=True was requested but Keras resolved it to "
                                             "False (eager)")
    rows = {row.environment: row for row in fairness.fairness_rows(results)}
    assert rows["keras3-torch"].compiled == "3 recompiles, 2 graph breaks / 7 recompiles, 2 graph breaks"
    # not compiled: nothing to count, nothing flagged
    quiet = [result("keras3-torch", dict(TORCH, **CPU), torch_compile=eager)]
    settings = settings_match.env_settings("keras3-torch", quiet)
    assert flags_of(quiet) == [] and settings is not None and settings.compile_text() is None


def test_the_ending_warns_of_flagged_settings(tmp_path: Path) -> None:
    """Written as a run, reported: the flag is a line of the terminal's ending, once for the two workloads."""
    run = RunDir(tmp_path / "results", "recorded")
    run.ensure_writable()
    for workload in ("mnist_mlp", "mnist_cnn"):
        for i, t in enumerate(BASE[:3]):
            run.write_cell(result("keras3-torch", dict(TORCH, **GPU_A100), workload, i, t))
            run.write_cell(result("keras3-tensorflow", dict(TF, **GPU_A100), workload, i, t * 1.2))
    console = Console(record=True, width=400, file=io.StringIO())
    write_report(run.path, load_cells(run.path), run.path / "report", console, Settings(reference="keras3-tensorflow"))
    lines = [line for line in lines_of(console.export_text()) if line.startswith("settings differ")]
    assert lines == [("settings differ on mnist_cnn (compare), mnist_mlp (compare): keras3-tensorflow "
                     "(tensor_float_32_execution on) allows TF32 in float32 matmuls while keras3-torch "
                     "(float32_matmul_precision 'highest', cudnn.allow_tf32 True) runs them in full float32: their "
                     "times are not comparable on a GPU")]
    assert 'id="settings-differ"' in (run.path / "report" / "report.html").read_text()


# The record


def test_old_results_load_and_the_settings_event_is_assembled() -> None:
    old = cell("keras3-jax", "mnist_mlp", 0, 1.0).model_dump(mode="json")
    old.pop("backend_settings")
    assert CellResult.model_validate(old).backend_settings is None
    from orchestrator.execution.assemble import backend_settings
    from orchestrator.execution.process import HarnessOutcome
    event = {"event": "settings", "matmul": dict(JAX, device="cpu"), "steps_per_execution": 1,
             "errors": {"torch_compile": "unknown: ImportError: x"}, "later_key": 1}
    outcome = HarnessOutcome(returncode=0, timed_out=False, wall_s=1.0, events=[event])
    settings = backend_settings(outcome)
    assert settings is not None and settings.steps_per_execution == 1 and settings.matmul["framework"] == "jax"
    assert settings.errors == {"torch_compile": "unknown: ImportError: x"}
    assert backend_settings(HarnessOutcome(returncode=0, timed_out=False, wall_s=1.0, events=[])) is None


# The probe (plain Python 3.6, defensive across torch versions)


def _probe() -> types.ModuleType:
    spec = importlib.util.spec_from_file_location("settings_probe_under_test", PROBE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_probe_is_python_3_6_and_never_raises() -> None:
    tree = ast.parse(PROBE.read_text(), filename=str(PROBE), feature_version=(3, 6))
    assert not [n for n in ast.walk(tree) if isinstance(n, ast.JoinedStr)]
    probe = _probe()
    assert probe.after_fit("cntk") == {"matmul": {"framework": "cntk", "tf32_matmul": None, "tf32_conv": None,
                                                  "note": "no float32 matmul precision setting read on cntk"}}

    class Broken:
        @property
        def steps_per_execution(self) -> int:
            raise RuntimeError("not compiled")

    found = probe.after_fit("mxnet", Broken())
    assert found["errors"] == {"steps_per_execution": "unknown: RuntimeError: not compiled"}

    class Keras24:
        _steps_per_execution = types.SimpleNamespace(numpy=lambda: 4)

    assert probe.after_fit("theano", Keras24())["steps_per_execution"] == 4


def _fake_torch(monkeypatch: pytest.MonkeyPatch, counters: dict[str, Counter], **convert: Any) -> None:
    torch = types.ModuleType("torch")
    torch.get_float32_matmul_precision = lambda: "high"  # type: ignore[attr-defined]
    torch.backends = types.SimpleNamespace(cuda=types.SimpleNamespace(matmul=types.SimpleNamespace(allow_tf32=True)),
                                           cudnn=types.SimpleNamespace(allow_tf32=True))  # type: ignore[attr-defined]
    torch.cuda = types.SimpleNamespace(is_available=lambda: True,  # type: ignore[attr-defined]
                                       get_device_capability=lambda i: (8, 6))
    dynamo = types.ModuleType("torch._dynamo")
    utils = types.ModuleType("torch._dynamo.utils")
    utils.counters = defaultdict(Counter, counters)  # type: ignore[attr-defined]
    dynamo.utils = utils  # type: ignore[attr-defined]
    torch._dynamo = dynamo  # type: ignore[attr-defined]
    modules = {"torch": torch, "torch._dynamo": dynamo, "torch._dynamo.utils": utils}
    if convert:
        frame = types.ModuleType("torch._dynamo.convert_frame")
        for name, value in convert.items():
            setattr(frame, name, value)
        modules["torch._dynamo.convert_frame"] = frame
    for name, module in modules.items():
        monkeypatch.setitem(sys.modules, name, module)
    if not convert:
        monkeypatch.delitem(sys.modules, "torch._dynamo.convert_frame", raising=False)


def test_the_probe_reads_torch_across_dynamo_versions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORCHESTRATE_TORCH_COMPILE", "1")
    frames = {"frames": Counter(total=5, ok=5), "stats": Counter(unique_graphs=5),
              "graph_break": Counter({"print\nmore": 2, "generic_jump": 1})}
    _fake_torch(monkeypatch, dict(frames, recompiles=Counter(a=2, b=1)))
    found = _probe().after_fit("torch")
    assert found["matmul"] == {"framework": "torch", "float32_matmul_precision": "high", "cuda_matmul_allow_tf32": True,
                               "cudnn_allow_tf32": True, "tf32_matmul": True, "tf32_conv": True, "device": "gpu",
                               "compute_capability": "8.6"}
    compiled = found["torch_compile"]
    assert (compiled["requested"], compiled["compiled"], compiled["frames_compiled"], compiled["unique_graphs"]) == (
        True, True, 5, 5)
    assert (compiled["recompiles"], compiled["recompiles_from"]) == (3, 'counters["recompiles"]')
    assert compiled["graph_breaks"] == 3 and compiled["graph_break_reasons"] == ["print", "generic_jump"]
    # a torch without counters["recompiles"]: each frame's compiles after its first
    _fake_torch(monkeypatch, frames, FRAME_COMPILE_COUNTER=Counter({0: 4, 1: 1, 2: 2}))
    assert _probe().after_fit("torch")["torch_compile"]["recompiles"] == 4
    # dynamo never loaded: nothing read, nothing imported
    monkeypatch.delenv("ORCHESTRATE_TORCH_COMPILE")
    monkeypatch.delitem(sys.modules, "torch._dynamo")
    assert _probe().after_fit("torch")["torch_compile"] == {"requested": False, "compiled": False}


# The probe in the real keras3-torch environment (a few seconds: dynamo's "eager" backend, no inductor)

REAL_TORCH = """
import json, sys
sys.path.insert(0, sys.argv[1])
import keras, torch, settings_probe
model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
model.compile("sgd", "mse")

def step(x):
    y = x * 2
    if x.sum() > 0:  # data-dependent: a graph break
        y = y + 1
    return y

compiled = torch.compile(step, backend="eager", dynamic=False)
for n in (3, 4, 5):  # a new shape each call: recompiles
    compiled(torch.ones(n))
print(json.dumps(settings_probe.after_fit("torch", model)))
"""


@pytest.mark.integration
def test_the_probe_reads_the_real_torch(repo: Path, env_cache: Path, tmp_path: Path) -> None:
    import json
    import subprocess

    from orchestrator.config.load import load_matrix
    from orchestrator.runtimes.local import LocalRuntime

    python = LocalRuntime(load_matrix(repo / "matrix.yaml"), env_cache).prepare("keras3-torch").paths.python
    done = subprocess.run([str(python), "-c", REAL_TORCH, str(PROBE.parent)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300, env={"KERAS_BACKEND": "torch", "PATH": "/usr/bin:/bin",
                                                       "HOME": str(tmp_path)}, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["matmul"]["float32_matmul_precision"] == "highest" and found["matmul"]["tf32_matmul"] is False
    assert found["matmul"]["device"] in ("cpu", "gpu") and found["steps_per_execution"] == 1
    compiled = found["torch_compile"]
    assert compiled["compiled"] is True and compiled["requested"] is False  # a model file's own torch.compile
    assert compiled["recompiles"] == 4  # the function and its resumed half, each compiled for 3 shapes
    assert compiled["graph_breaks"] == 3 and compiled["frames_compiled"] == 6
    assert "errors" not in found
