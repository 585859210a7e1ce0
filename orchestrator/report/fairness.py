"""The fairness table: per environment, the settings that made its numbers, read from the results.

Threads (requested and what each framework reports back), OpenMP wait policy, LSTM kernel (implementation mode
in force), jit / compile, data feeding, precision and the deviations recorded in the cells. Nothing comes from
the matrix: a setting shows only if the harness read it back inside the environment.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from rich.table import Table

from orchestrator.report.html_table import Cell, html_table
from orchestrator.results.schema import CellResult

# Framework thread knobs as the harness reads them back (threads.framework), in display order.
THREAD_KEYS = ("tf_intra_op", "tf_inter_op", "tf1_session_intra_op", "tf1_session_inter_op", "torch_threads",
               "torch_interop_threads", "cntk_max_cpu_threads", "xla_cpu_threads", "theano_openmp",
               "mxnet_engine", "mxnet_mkldnn", "cpu_affinity")
COLUMNS = ("environment", "backend / Keras", "threads (read back)", "OMP wait policy", "LSTM kernel", "jit / compile",
           "data feeding", "precision", "deviations")


@dataclass(frozen=True)
class FairnessRow:
    environment: str
    backend: str
    threads: str
    wait_policy: str
    lstm: str
    jit: str
    feeding: str
    precision: str
    deviations: tuple[str, ...]

    def cells(self) -> tuple[str, ...]:
        return (self.environment, self.backend, self.threads, self.wait_policy, self.lstm, self.jit, self.feeding,
                self.precision, "; ".join(self.deviations) or "none")


def _distinct(results: Iterable[CellResult], value: Callable[[CellResult], Any]) -> str:
    """The distinct values over an environment's cells, ' / '-joined; '-' where no cell recorded one."""
    seen: list[str] = []
    for r in results:
        v = value(r)
        if v is not None and str(v) not in seen:
            seen.append(str(v))
    return " / ".join(seen) or "-"


def _threads(r: CellResult) -> str:
    framework = r.threads.framework
    knobs = ", ".join(f"{k}={framework[k]}" for k in THREAD_KEYS if k in framework)
    openvino = framework.get("openvino")
    if isinstance(openvino, dict) and "INFERENCE_NUM_THREADS" in openvino:
        knobs = ", ".join(filter(None, [knobs, f"openvino={openvino['INFERENCE_NUM_THREADS']}"]))
    return f"{r.threads.requested}" + (f" ({knobs})" if knobs else "")


def _lstm(r: CellResult) -> str | None:
    mode = r.model.hyperparameters.get("lstm_implementation")
    if not isinstance(mode, dict):
        return None
    pinned = "pinned" if mode.get("requested") is not None else "Keras default"
    return f"mode {mode.get('in_force')} ({pinned})"


def _jit(r: CellResult) -> str | None:
    jit = r.model.hyperparameters.get("jit_compile")
    if isinstance(jit, dict):
        return str(jit.get("means"))
    return "static graph (Keras 1/2)" if r.environment.keras_version.startswith(("1.", "2.")) else None


def _feeding(r: CellResult) -> str | None:
    feed = r.model.hyperparameters.get("data_feeding")
    if not isinstance(feed, dict):
        return None
    return f"{feed.get('mode')}, queue {feed.get('queue')}"


def _precision(r: CellResult) -> str | None:
    floatx = r.model.hyperparameters.get("floatx")
    hint = ((r.inference or {}).get("backend_settings") or {}).get("INFERENCE_PRECISION_HINT")
    if floatx is None and hint is None:
        return None
    return str(floatx or "-") + (f" (inference {hint})" if hint else "")


def _wait_policy(r: CellResult) -> str:
    return str(r.threads.framework.get("OMP_WAIT_POLICY") or r.threads.env.get("OMP_WAIT_POLICY") or "unset")


def fairness_rows(results: list[CellResult]) -> list[FairnessRow]:
    by_env: dict[str, list[CellResult]] = {}
    for r in results:
        if r.threads.framework:  # the harness started and read its settings back
            by_env.setdefault(r.environment.name, []).append(r)
    rows = []
    for name, cells in sorted(by_env.items()):
        deviations: list[str] = []
        for r in cells:
            deviations += [d for d in r.model.deviations if d not in deviations]
        rows.append(FairnessRow(
            environment=name,
            backend=_distinct(cells, lambda r: f"{r.environment.backend} {r.environment.framework_version or ''} / "
                                               f"Keras {r.environment.keras_version}"),
            threads=_distinct(cells, _threads), wait_policy=_distinct(cells, _wait_policy),
            lstm=_distinct(cells, _lstm), jit=_distinct(cells, _jit), feeding=_distinct(cells, _feeding),
            precision=_distinct(cells, _precision), deviations=tuple(deviations),
        ))
    return rows


def terminal_table(results: list[CellResult]) -> Table:
    table = Table(title="Fairness: the settings in force, per environment (read back from the results)")
    for column in COLUMNS:
        table.add_column(column, overflow="fold")
    for row in fairness_rows(results):  # the deviations' text is in the HTML report and each cell's result
        table.add_row(*row.cells()[:-1], f"{len(row.deviations)} (model.deviations)" if row.deviations else "none")
    return table


def html_section(results: list[CellResult]) -> str:
    rows = fairness_rows(results)
    if not rows:
        return ""
    body = [[*row.cells()[:-1], Cell(items=row.deviations)] for row in rows]
    return ("<h2>Fairness</h2>\n<p>The settings that made each environment's numbers, as the frameworks reported "
            "them inside the cells (docs/backend-settings.md).</p>\n" + html_table(COLUMNS, body, table_id="fairness"))
