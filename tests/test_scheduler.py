"""Scheduler pieces that need no environment: slots, thread defaults, resume decisions, error classes."""

from __future__ import annotations

from pathlib import Path

from orchestrator.core.errors import looks_like_network_error
from orchestrator.config.expand import expand
from orchestrator.config.load import load_matrix
from orchestrator.results.schema import DataInfo
from orchestrator.rundir.layout import RunDir
from orchestrator.scheduling.resume import resume_plan
from orchestrator.execution.slots import plan_slots, split_cores

from test_results import sample


def test_cpu_only_machine_runs_one_cell_at_a_time_unless_asked() -> None:
    slots = plan_slots(None, gpus=0, cpus=[0, 1, 2, 3])
    assert [(s.name, s.cpus, s.gpu) for s in slots] == [("cpu-slot0", (0, 1, 2, 3), None)]
    two = plan_slots(2, gpus=0, cpus=[0, 1, 2, 3])
    assert [s.cpus for s in two] == [(0, 1), (2, 3)]
    assert all("CUDA_VISIBLE_DEVICES" not in s.env() for s in two)


def test_one_slot_per_gpu_with_its_own_cores() -> None:
    slots = plan_slots(None, gpus=2, cpus=[0, 1, 2, 3, 4, 5])
    assert [(s.name, s.gpu, s.cpus) for s in slots] == [("gpu0", 0, (0, 1, 2)), ("gpu1", 1, (3, 4, 5))]
    assert slots[1].env() == {"CUDA_VISIBLE_DEVICES": "1", "CUDA_DEVICE_ORDER": "PCI_BUS_ID"}
    assert len(plan_slots(1, gpus=2, cpus=[0, 1])) == 1  # `slots` caps the GPUs used


def test_core_split_is_even_and_never_empty() -> None:
    assert split_cores([0, 1, 2], 2) == [[0, 1], [2]]
    assert split_cores([0, 1], 3) == [[0], [1], [0]]


def test_threads_default_to_the_cores_of_a_slot(repo: Path) -> None:
    loaded = load_matrix(repo / "tests" / "workloads" / "matrix.yaml")
    assert loaded.matrix.threads is None
    cells = expand(loaded, workloads=["sleepy", "hangs", "memhog"], threads=3)
    assert {c.threads for c in cells} == {3}
    by_name = {c.workload: c for c in cells}
    assert by_name["hangs"].timeout_s == 40 and by_name["sleepy"].timeout_s == 120
    assert by_name["memhog"].memory_limit_gb == 1.0 and by_name["sleepy"].memory_limit_gb is None
    assert expand(loaded, workloads=["hangs"], timeout_s=3)[0].timeout_s == 3  # --timeout overrides


def test_plan_order_is_deterministic(repo: Path) -> None:
    loaded = load_matrix(repo / "tests" / "workloads" / "matrix.yaml")
    first = [c.cell_id for c in expand(loaded, profile="pair", workloads=["sleepy", "aborts"])]
    assert first == [c.cell_id for c in expand(loaded, profile="pair", workloads=["aborts", "sleepy"])]
    assert first == [f"keras3-jax__{w}__pair__r{i}" for w in ("sleepy", "aborts") for i in range(2)]


def test_resume_keeps_valid_ok_results_only(repo: Path, tmp_path: Path) -> None:
    loaded = load_matrix(repo / "tests" / "workloads" / "matrix.yaml")
    cells = expand(loaded, profile="pair", workloads=["sleepy", "aborts"], threads=1)[:3]
    run = RunDir(tmp_path, "r")
    run.ensure_writable()

    def result_for(cell, status="ok"):  # noqa: ANN001, ANN202
        r = sample(cell.cell_id, status)
        return r.model_copy(update={"workload": r.workload.model_copy(update={
            "name": cell.workload, "profile": cell.profile, "epochs": cell.epochs, "batch_size": cell.batch_size,
            "repeat": cell.repeat, "seed": cell.seed}), "data": DataInfo(source="synthetic")})

    run.write_cell(result_for(cells[0]))
    run.write_cell(result_for(cells[1], "failed"))
    (run.cell_path(cells[2].cell_id)).write_text('{"schema_version": 1, "cell_id": "half a fi')
    plan = resume_plan(cells, run)
    assert [r.cell_id for r in plan.kept] == [cells[0].cell_id]
    assert [c.cell_id for c in plan.to_run] == [cells[1].cell_id, cells[2].cell_id]
    assert plan.rerun == {cells[1].cell_id: "its last result is failed",
                          cells[2].cell_id: "its result file is unreadable or invalid (ignored)"}
    assert list(plan.rejected) == [str(run.cell_path(cells[2].cell_id))]
    # A profile changed since the first attempt: the old ok result no longer counts.
    changed = [c.model_copy(update={"epochs": 7}) for c in cells]
    assert "epochs" in resume_plan(changed, run).rerun[cells[0].cell_id]


def test_network_errors_are_told_apart_from_bad_requirements() -> None:
    assert looks_like_network_error("error: Request failed after 3 retries\n  cause: Connection refused (os error 111)")
    assert looks_like_network_error("ReadTimeoutError: HTTPSConnectionPool(host='pypi.org'): Read timed out.")
    assert not looks_like_network_error("No solution found when resolving dependencies: keras==99 is unavailable")
    assert not looks_like_network_error("error: Distribution not found at: file:///tmp/nope-1.0-py3-none-any.whl")
