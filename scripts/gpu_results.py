"""The GPU check's figures as Markdown (for docs/gpu-results.md), and its checks.

    python scripts/gpu_results.py RUN_DIR gpu|cpu

gpu: every cell ok, run on a GPU, with joules from NVML's energy counter (valid: no other process on it).
cpu (the dry run): every cell ok, on the CPU, the energy recorded as "no GPU". Exit 1 when a check fails.
"""

from __future__ import annotations

import sys
from pathlib import Path

from orchestrator.results.schema import CellResult
from orchestrator.results.io import load_cells


def fmt(value: float | None, spec: str = "{:.3g}") -> str:
    return "-" if value is None else spec.format(value)


def gpu_of(result: CellResult) -> dict:
    gpus = (result.monitor or {}).get("gpus") or []
    used = [g for g in gpus if g.get("used_by_cell")] or gpus
    return used[0] if used else {}


def framework_says(result: CellResult) -> str:
    """Where the framework says the model ran (the harness's device record), in a few words."""
    found = result.host.framework_device or {}
    where = found.get("weight_device") or found.get("default_device")
    return f"{found.get('kind') or 'not recorded'}" + (f" ({where})" if where else "")


def device(result: CellResult) -> str:
    """Where the cell ran. On a GPU only when the framework says so (its device record) and NVML agrees: it saw
    the cell's process on a GPU, or (PID namespaces hide it) the GPU was busy meanwhile."""
    framework = (result.host.framework_device or {}).get("kind")
    if framework != "gpu":
        return f"{result.host.device if result.host.device == 'cpu' else 'not the GPU'}; framework: " \
               f"{framework_says(result)}"
    if result.host.device.startswith("gpu"):
        return result.host.device
    if (gpu_of(result).get("util_max_percent") or 0) > 0:
        return "gpu (busy during the cell; NVML did not list its process)"
    return f"framework on {framework_says(result)}, but NVML saw no use of the GPU"


def joules(value: float | None) -> str:
    """J per epoch; exactly 0 is a counter that did not step during the epochs, not a measured zero."""
    return "< counter resolution" if value == 0 else fmt(value)


def table(results: list[CellResult]) -> list[str]:
    lines = ["| environment | workload | status | device | GPU | framework | steady s/epoch | first epoch s | "
             "GPU util mean % | GPU memory max MiB | GPU power mean W | GPU J/epoch | J/sample | energy from | "
             "CPU J/epoch | cost/epoch |",
             "|" + "---|" * 16]
    for r in results:
        gpu, energy = gpu_of(r), r.energy or {}
        ge, ce = energy.get("gpu") or {}, energy.get("cpu") or {}
        how = ge.get("method") or ge.get("reason") or "-"
        if ge.get("valid") is not True and ge.get("invalid_reason"):
            how += f"; {'INVALID' if ge.get('valid') is False else 'validity'}: {ge.get('invalid_reason')}"
        lines.append(
            f"| {r.environment.name} | {r.workload.name} | {r.status} | {device(r)} | {gpu.get('name') or '-'} | "
            f"{r.environment.backend} {r.environment.framework_version or '?'}, keras {r.environment.keras_version} | "
            f"{fmt(r.timings.steady_state_s)} | {fmt(r.timings.first_epoch_s)} | {fmt(gpu.get('util_mean_percent'))} | "
            f"{fmt(gpu.get('memory_used_max_mb'), '{:.0f}')} | {fmt(gpu.get('power_mean_w'), '{:.0f}')} | "
            f"{joules(ge.get('steady_j_per_epoch'))} | {joules(ge.get('steady_j_per_sample'))} | {how} | "
            f"{fmt(ce.get('steady_j_per_epoch')) if ce.get('available') else 'unavailable'} | "
            f"{fmt((r.cost or {}).get('per_epoch'), '{:.2g}')} |")
    return lines


def problems(results: list[CellResult], mode: str) -> list[str]:
    found = []
    for r in results:
        ge = (r.energy or {}).get("gpu") or {}
        if r.status != "ok":
            found.append(f"{r.cell_id}: {r.status} ({r.reason})")
        elif mode == "gpu" and not device(r).startswith("gpu"):
            found.append(f"{r.cell_id}: ran on {device(r)}, not on a GPU")
        elif mode == "gpu" and ge.get("steady_j_per_epoch") is None:
            found.append(f"{r.cell_id}: no joules per epoch, neither from the energy counter nor from power ({ge})")
        elif mode == "cpu" and (r.host.device != "cpu" or ge.get("available") is not False):
            found.append(f"{r.cell_id}: the dry run should be on the CPU with no GPU energy ({r.host.device}, {ge})")
        elif mode == "cpu" and (r.host.framework_device or {}).get("kind") != "cpu":
            found.append(f"{r.cell_id}: the dry run's framework should be on the CPU ({framework_says(r)})")
    return found


def warnings(results: list[CellResult], mode: str) -> list[str]:
    """What does not fail the check but must be said beside its figures."""
    found = []
    for r in results:
        ge = (r.energy or {}).get("gpu") or {}
        if mode == "gpu" and ge.get("steady_j_per_epoch") == 0:
            found.append(f"{r.cell_id}: 0 J per steady epoch: below the energy counter's resolution (epochs too "
                         "short for the counter's steps; more epochs or samples per epoch give a figure)")
        elif mode == "gpu" and ge.get("steady_j_per_epoch") and ge.get("method") != "counter":
            found.append(f"{r.cell_id}: joules from {ge.get('method')} (an estimate), not NVML's energy counter "
                         "(this GPU, driver or sandbox does not report it)")
        if mode == "gpu" and ge.get("valid") is not True:
            found.append(f"{r.cell_id}: energy validity: {ge.get('invalid_reason')}")
    return found


def main(run_dir: str, mode: str) -> int:
    loaded = load_cells(Path(run_dir))
    results = sorted(loaded.results, key=lambda r: r.cell_id)
    first = results[0] if results else None
    host = first.host if first else None
    gpus = "; ".join(f"{g.get('name')} ({g.get('memory_total_mb')} MiB, CC {g.get('compute_capability')}, driver "
                     f"{g.get('driver')}, CUDA {g.get('cuda_driver')})" for g in (host.gpus if host else []))
    print(f"Run `{first.run_id if first else '?'}` ({mode}): host {host.cpu if host else '?'}, "
          f"{host.cpu_count if host else '?'} CPUs; GPUs: {gpus or 'none'}\n")
    print("\n".join(table(results)))
    bad = problems(results, mode) + [f"{path}: {why}" for path, why in loaded.rejected.items()]
    if not results:
        bad.append(f"no cell results in {run_dir}")
    for line in warnings(results, mode):
        print(f"\nWARNING: {line}")
    for line in bad:
        print(f"\nCHECK FAILED: {line}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
