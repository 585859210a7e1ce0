"""The fairness table: per environment, the settings that made its numbers, read from the results.

Threads (requested and what each framework reports back), OpenMP wait policy, LSTM kernel (implementation mode
in force), jit / compile, data feeding, precision, float32 matmul precision / TF32, steps_per_execution and
torch.compile's recompiles, and the deviations recorded in the cells. Nothing comes from the matrix: a setting
shows only if the harness read it back inside the environment. Below the table (HTML) and in the terminal's
ending: the settings that differ between the environments compared (analysis/settings_match.py decides them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from html import escape
from typing import Any

from rich.table import Table

from orchestrator.analysis.settings_match import (
    SettingsFlag,
    compare_settings,
    env_settings,
    flagged,
)
from orchestrator.report.html_table import Cell, html_table
from orchestrator.results.schema import CellResult

# Framework thread knobs as the harness reads them back (threads.framework), in display order.
THREAD_KEYS = ("tf_intra_op", "tf_inter_op", "tf1_session_intra_op", "tf1_session_inter_op", "torch_threads",
               "torch_interop_threads", "cntk_max_cpu_threads", "xla_cpu_threads", "theano_openmp",
               "mxnet_engine", "mxnet_mkldnn", "cpu_affinity")
COLUMNS = ("environment", "backend / Keras", "threads (read back)", "OMP wait policy", "LSTM kernel", "jit / compile",
           "data feeding", "precision", "float32 matmul (TF32)", "steps/execution, torch.compile", "deviations")


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
    matmul: str = "-"
    compiled: str = "-"

    def cells(self) -> tuple[str, ...]:
        return (self.environment, self.backend, self.threads, self.wait_policy, self.lstm, self.jit, self.feeding,
                self.precision, self.matmul, self.compiled, "; ".join(self.deviations) or "none")


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


def _matmul(r: CellResult) -> str | None:
    """The framework's float32 matmul setting, what it allows and where the cell ran (TF32 needs a GPU >= 8.0)."""
    s = env_settings(r.environment.name, [r])
    return None if s is None else f"{s.matmul}: {s.tf32_text()} ({s.where})"


def _compiled(r: CellResult) -> str | None:
    s = env_settings(r.environment.name, [r])
    if s is None:
        return None
    parts = [f"steps_per_execution {s.steps_per_execution}" if s.steps_per_execution is not None else None,
             s.compile_text()]
    return "; ".join(p for p in parts if p) or None


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
            matmul=_distinct(cells, _matmul), compiled=_distinct(cells, _compiled),
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
    flags = _flags_html(compare_settings(results))
    if not rows and not flags:
        return ""
    body = [[*row.cells()[:-1], Cell(items=row.deviations)] for row in rows]
    return ("<h2>Fairness</h2>\n<p>The settings that made each environment's numbers, as the frameworks reported "
            "them inside the cells (docs/backend-settings.md).</p>\n"
            + (html_table(COLUMNS, body, table_id="fairness") if rows else "") + flags)


def _where(flag: SettingsFlag) -> str:
    return f"{flag.workload} ({flag.profile})"


def _flags_html(flags: list[SettingsFlag]) -> str:
    """The settings that differ between the environments compared: flagged ones first, then those recorded only
    (TF32 where it cannot matter)."""
    if not flags:
        return ""
    items = [f"<li><strong>{escape(_where(f))}</strong>: {escape(f.message)}</li>" for f in flags if f.flagged]
    items += [f"<li>{escape(_where(f))}: {escape(f.message)} (recorded only)</li>" for f in flags if not f.flagged]
    return ("\n<h3>Settings that differ</h3>\n<p>Settings no one chose that differ between the environments "
            "compared, or that put compile time into an environment's epochs (analysis/settings_match.py).</p>\n"
            '<ul id="settings-differ">' + "".join(items) + "</ul>")


def ending_lines(results: list[CellResult]) -> list[str]:
    """The flagged settings for the terminal's ending, one line per distinct sentence with the workloads it
    concerns (recorded-only ones left out)."""
    where: dict[str, list[str]] = {}
    for flag in flagged(compare_settings(results)):
        where.setdefault(flag.message, []).append(_where(flag))
    several = len({(r.workload.name, r.workload.profile) for r in results}) > 1
    return [f"settings differ{' on ' + ', '.join(places) if several else ''}: {message}"
            for message, places in where.items()]
