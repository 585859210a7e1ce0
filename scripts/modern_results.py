"""The modern profile's figures as Markdown (for docs/modern-results.md), beside keras-benchmarks' A100 ratios.

    python scripts/modern_results.py RUN_DIR

Per workload and backend: parameters (must agree across backends), steady s/epoch, fit ms/step and predict ms/step
(keras-benchmarks' definitions: mean over steps after the first / batches after the warm-up), test accuracy,
generation tokens/s (GPT-2), training loss in the first and last epoch, input pipeline, load average; then each
workload's verdict per phase (to train, to predict, to generate where recorded: ratios to keras3-tensorflow with
their interval and p, one Holm family) under the settings the run saved (its alpha, sequential looks and validity
gate), as `orchestrate report RUN_DIR --reference keras3-tensorflow` makes them. Exit 1 when a cell is not ok or parameter counts differ.
"""

from __future__ import annotations

import dataclasses
import statistics
import sys
from pathlib import Path

from orchestrator.results.schema import CellResult
from orchestrator.results.io import load_cells
from orchestrator.analysis.stats import group_results
from orchestrator.analysis.verdicts.settings import Settings
from orchestrator.analysis.verdicts.validity import training_loss
from orchestrator.analysis.verdicts.assemble import build
from orchestrator.report.sections import in_order
from orchestrator.workflows.report import read_settings

REFERENCE = "keras3-tensorflow"
# keras-io templates/getting_started/benchmarks.md, Table 2 (one A100 40GB, ms/step, mean of 100 steps after the
# first; Gemma/Mistral in bfloat16): Keras 3 on JAX and on PyTorch as a ratio to Keras 3 on TensorFlow.
THEIRS = {  # (task, batch): (TensorFlow, JAX, PyTorch) ms/step
    ("BERT fit", 32): (214.49, 222.37, 808.68),
    ("BERT predict", 256): (466.01, 418.72, 1865.98),
    ("Gemma fit", 8): (232.52, 273.67, 525.15),
    ("Gemma generate", 32): (1134.91, 1128.21, 7952.67),
    ("Mistral fit", 8): (185.92, 213.22, 452.12),
    ("Mistral generate", 32): (966.06, 957.25, 10932.59),
    ("SegmentAnything fit", 1): (355.25, 361.69, 1388.87),
    ("StableDiffusion fit", 8): (392.24, 391.21, 823.44),
}


def fmt(value: float | None, spec: str = "{:.3g}") -> str:
    return "-" if value is None else spec.format(value)


def median(values: list[float | None]) -> float | None:
    found = [v for v in values if v is not None]
    return statistics.median(found) if found else None


def figures(results: list[CellResult]) -> list[str]:
    lines = ["| workload | backend | cells ok | params | steady s/epoch | fit ms/step | predict ms/step | test acc | "
             "generate tokens/s | train loss first -> last | input pipeline | data | load (1 min) |", "|" + "---|" * 13]
    keys = sorted({(r.workload.name, r.environment.name) for r in results})
    for workload, env in keys:
        cells = [r for r in results if (r.workload.name, r.environment.name) == (workload, env)]
        ok = [r for r in cells if r.status == "ok"]
        params = sorted({r.model.params for r in ok if r.model.params})
        loss = training_loss(group_results(ok)[0]) if ok else None
        lines.append("| " + " | ".join([
            workload, env, f"{len(ok)}/{len(cells)}", ", ".join(f"{p:,}" for p in params) or "-",
            fmt(median([r.timings.steady_state_s for r in ok])),
            fmt(median([r.timings.fit_ms_per_step for r in ok]), "{:.0f}"),
            fmt(median([r.timings.predict_ms_per_step for r in ok]), "{:.0f}"),
            fmt(median([r.metrics.test.get("accuracy") for r in ok]), "{:.3f}"),
            fmt(median([r.metrics.test.get("generate_tokens_per_s") for r in ok]), "{:.0f}"),
            f"{loss[0]:.3g} -> {loss[1]:.3g}" if loss else "-",
            ", ".join(sorted({str(r.model.hyperparameters.get("input_pipeline", "-")) for r in ok})),
            ", ".join(sorted({str(r.data.source) for r in ok})),
            ", ".join(f"{r.host.load_average[0]:.1f}" for r in cells if r.host.load_average),
        ]) + " |")
    return lines


def verdicts(results: list[CellResult], settings: Settings) -> list[str]:
    lines = ["| workload | phase | verdict | keras3-jax / keras3-tensorflow [95% CI], p | keras3-torch / "
             "keras3-tensorflow [95% CI], p | excluded |", "|---|---|---|---|---|---|"]
    for verdict in in_order(build(group_results([r for r in results if r.status == "ok"]), settings)):
        cells = []
        for env in ("keras3-jax", "keras3-torch"):
            row = verdict.row(env)
            test = row.vs_reference if row else None
            cells.append(f"{test.describe()}, p={test.describe_p()}" if test else "-")
        excluded = "; ".join(f"{r.environment}: {r.validity.describe()}" for r in verdict.excluded) or "none"
        lines.append(f"| {verdict.workload} | {verdict.phase} | {verdict.statement()} | {cells[0]} | {cells[1]} | "
                     f"{excluded} |")
    return lines


def ratios(results: list[CellResult]) -> list[str]:
    """Medians as ratios to keras3-tensorflow (point estimates, not verdicts), for reading beside theirs."""
    lines = ["| workload | measure | keras3-tensorflow | keras3-jax / TF | keras3-torch / TF |", "|---|---|---|---|---|"]
    for workload in sorted({r.workload.name for r in results}):
        for label, get in (("steady s/epoch", lambda r: r.timings.steady_state_s),
                           ("fit ms/step", lambda r: r.timings.fit_ms_per_step),
                           ("predict ms/step", lambda r: r.timings.predict_ms_per_step)):
            values = {env: median([get(r) for r in results if r.status == "ok" and r.workload.name == workload
                                   and r.environment.name == env])
                      for env in (REFERENCE, "keras3-jax", "keras3-torch")}
            tf = values[REFERENCE]
            cells = [fmt(values[env] / tf if tf and values[env] else None, "{:.2f}") for env in ("keras3-jax", "keras3-torch")]
            lines.append(f"| {workload} | {label} | {fmt(tf)} | {cells[0]} | {cells[1]} |")
    return lines


def theirs() -> list[str]:
    lines = ["| keras-benchmarks task (theirs, A100) | batch | TF ms/step | JAX / TF | PyTorch / TF |",
             "|---|---|---|---|---|"]
    for (task, batch), (tf, jax, torch) in THEIRS.items():
        lines.append(f"| {task} | {batch} | {tf:,.2f} | {jax / tf:.2f} | {torch / tf:.2f} |")
    return lines


def main(run_dir: str) -> int:
    results = load_cells(Path(run_dir)).results
    settings = dataclasses.replace(read_settings(Path(run_dir)), reference=REFERENCE)
    tables = [figures(results), verdicts(results, settings), ratios(results), theirs()]
    print("\n\n".join("\n".join(table) for table in tables))
    problems = [f"{r.cell_id}: {r.status} {r.reason}" for r in results if r.status != "ok"]
    for workload in sorted({r.workload.name for r in results}):
        counts = {r.model.params for r in results if r.workload.name == workload and r.status == "ok"}
        if len(counts) > 1:
            problems.append(f"{workload}: parameter counts differ across backends: {sorted(counts)}")
    for problem in problems:
        print(f"CHECK FAILED: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
