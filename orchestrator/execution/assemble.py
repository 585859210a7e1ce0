"""The two ends of a cell run: the spec the host gives the harness, and the CellResult made from its events
(or, for a cell that never ran its workload, from the failure that stopped it)."""

from __future__ import annotations

from typing import Any

from orchestrator.analysis import stats
from orchestrator.config.cell import Cell
from orchestrator.config.schema import Environment
from orchestrator.core.clock import now_iso
from orchestrator.core.protocol import EVENT_FIELD, READ_BACK_VARS, TIME_FIELD, Event
from orchestrator.environments.prepared import Prepared
from orchestrator.execution.process import HarnessOutcome
from orchestrator.measure.host import host_info
from orchestrator.results.schema import (
    BackendSettings,
    CellResult,
    DataInfo,
    EnvironmentInfo,
    EpochMetrics,
    ErrorInfo,
    HostInfo,
    LimitsInfo,
    Metrics,
    ModelInfo,
    Status,
    Threads,
    Timings,
    WorkloadInfo,
)


def assemble(cell: Cell, prepared: Prepared, outcome: HarnessOutcome, run_id: str, runtime: str,
             started_at: str, env_vars: dict[str, str], host: HostInfo | None = None,
             memory_limit_how: str | None = None) -> CellResult:
    """Turn a harness outcome into a CellResult; decide its status from what the process showed."""
    start = outcome.first(Event.START) or {}
    data = outcome.first(Event.DATA) or {}
    model = outcome.first(Event.MODEL) or {}
    evaluate = outcome.first(Event.EVALUATE) or {}
    end = outcome.first(Event.END) or outcome.first(Event.FIT) or {}  # fit survives a failed inference phase
    epochs = sorted(outcome.all(Event.EPOCH), key=lambda e: e.get("epoch", 0))
    epochs_s = [float(e["seconds"]) for e in epochs if "seconds" in e]
    status, reason, error = _status(outcome, cell)
    versions = start.get("versions", {})
    return CellResult(
        run_id=run_id,
        cell_id=cell.cell_id,
        status=status,
        reason=reason,
        started_at=started_at,
        finished_at=now_iso(),
        environment=EnvironmentInfo(
            name=prepared.name,
            backend=prepared.environment.backend,
            keras_version=str(versions.get("keras") or prepared.environment.keras),
            python_version=str(versions.get("python") or prepared.python_version),
            runtime=runtime,
            framework_version=versions.get("backend_version"),
            numpy_version=versions.get("numpy"),
            image_data_format=start.get("image_data_format") or prepared.environment.image_data_format,
            packages=prepared.packages,
            env_hash=prepared.env_hash,
            image=prepared.image,
            configuration=configuration_info(prepared.environment),
        ),
        workload=workload_info(cell),
        model=ModelInfo(
            params=model.get("params"),
            deviations=list(model.get("deviations", [])) + list(start.get("deviations", [])),
            hyperparameters=model.get("hyperparameters", {}),
        ),
        data=DataInfo(**{k: v for k, v in data.items() if k in DataInfo.model_fields}),
        timings=Timings(
            process_s=round(outcome.wall_s, 3),
            import_s=start.get("import_s"),
            data_s=data.get("seconds"),
            build_s=model.get("seconds"),
            fit_s=end.get("fit_s"),
            compile_s=(outcome.first(Event.COMPILE) or {}).get("seconds"),
            evaluate_s=evaluate.get("seconds"),
            epochs_s=epochs_s,
            first_epoch_s=epochs_s[0] if epochs_s else None,
            steady_state_s=stats.steady_state(epochs_s),
            samples_per_s=stats.samples_per_second(end.get("train_samples_per_epoch"), stats.steady_state(epochs_s)),
            fit_ms_per_step=(outcome.first(Event.STEPS) or {}).get("fit_ms_per_step"),
            predict_ms_per_step=predict_ms_per_step(outcome.first(Event.INFERENCE)),
            warm_start=start.get("warm_start"),
        ),
        metrics=Metrics(
            per_epoch=[EpochMetrics(**{k: v for k, v in e.items() if k in EpochMetrics.model_fields})
                       for e in epochs],
            test={k: float(v) for k, v in evaluate.get("metrics", {}).items()},
        ),
        inference=(outcome.first(Event.INFERENCE) or {}).get("results"),
        equivalence=equivalence_record(outcome),
        backend_settings=backend_settings(outcome),
        threads=Threads(
            requested=cell.threads,
            env=thread_env(env_vars),
            framework=start.get("threads", {}),
        ),
        host=(host or host_info()).model_copy(update={"framework_device": framework_device(outcome)}),
        limits=limits_info(cell, memory_limit_how),
        error=error,
    )


def framework_device(outcome: HarnessOutcome) -> dict[str, Any] | None:
    """The harness's device event: where the framework says the model ran (None before the model trained)."""
    return (outcome.first(Event.DEVICE) or {}).get("framework")


def backend_settings(outcome: HarnessOutcome) -> BackendSettings | None:
    """The harness's settings event (after fit): matmul precision / TF32, steps_per_execution, torch.compile's
    counters. Keys this host does not know are left out; None when the cell never got past fit."""
    event = outcome.first(Event.SETTINGS)
    if event is None:
        return None
    return BackendSettings(**{k: v for k, v in event.items() if k in BackendSettings.model_fields})


def equivalence_record(outcome: HarnessOutcome) -> dict[str, Any] | None:
    """The harness's equivalence event without its kind and time (None: no check ran: Keras 1/2, native,
    inference only, or the cell stopped before fit)."""
    event = outcome.first(Event.EQUIVALENCE)
    return None if event is None else {k: v for k, v in event.items() if k not in (EVENT_FIELD, TIME_FIELD)}


def thread_env(env_vars: dict[str, str]) -> dict[str, str]:
    """The thread variables of a cell's process env as its result records them: every *_THREADS variable and
    the other variables that change how the frameworks use their threads (protocol.READ_BACK_VARS)."""
    return {k: v for k, v in env_vars.items() if k.endswith("_THREADS") or k in READ_BACK_VARS}


def configuration_info(env: Environment) -> dict[str, Any] | None:
    """The configuration a derived `<base>+<name>` environment ran with, for its results."""
    if env.configuration is None:
        return None
    return {"base": env.base, **env.configuration.model_dump(exclude_defaults=True)}


def predict_ms_per_step(inference: dict[str, Any] | None) -> float | None:
    """Mean ms per timed predict batch (the warm-up batch excluded), as keras-benchmarks reports predict."""
    batch_s = ((inference or {}).get("results") or {}).get("batch_s") or []
    return round(1000.0 * sum(batch_s) / len(batch_s), 3) if batch_s else None


def workload_info(cell: Cell) -> WorkloadInfo:
    return WorkloadInfo(
        name=cell.workload, profile=cell.profile, epochs=cell.epochs, batch_size=cell.batch_size,
        repeat=cell.repeat, seed=cell.seed, train_samples=cell.train_samples, test_samples=cell.test_samples,
        steps_per_epoch=cell.steps_per_epoch,
    )


def limits_info(cell: Cell, memory_limit_how: str | None = None) -> LimitsInfo:
    return LimitsInfo(timeout_s=cell.timeout_s, memory_gb=cell.memory_limit_gb,
                      memory_enforced_by=memory_limit_how if cell.memory_limit_gb is not None else None)


def failure_result(cell: Cell, env: Environment, runtime: str, run_id: str, exc: BaseException, started: str,
                   attempts: int = 1, log_tail: str | None = None, error_type: str | None = None,
                   status: Status = "failed") -> CellResult:
    """The result of a cell that never got to run its workload (environment, container or runtime failure)."""
    message = str(exc) or type(exc).__name__
    return CellResult(
        run_id=run_id, cell_id=cell.cell_id, status=status, reason=message.splitlines()[0],
        started_at=started, finished_at=now_iso(), attempts=attempts,
        environment=EnvironmentInfo(name=cell.environment, backend=env.backend, keras_version=env.keras,
                                    python_version=env.python, runtime=runtime,
                                    image_data_format=env.image_data_format),
        workload=workload_info(cell), threads=Threads(requested=cell.threads), host=host_info(),
        limits=limits_info(cell),
        error=ErrorInfo(type=error_type or type(exc).__name__, message=message.splitlines()[0],
                        log_tail=log_tail if log_tail is not None else message),
    )


def _status(outcome: HarnessOutcome, cell: Cell) -> tuple[str, str | None, ErrorInfo | None]:
    unsupported = outcome.first(Event.UNSUPPORTED)
    error = outcome.first(Event.ERROR)
    if outcome.timed_out:
        message = f"cell {cell.cell_id} ran past its timeout of {cell.timeout_s:g} s and was stopped"
        return "timeout", message, ErrorInfo(type="Timeout", message=message, log_tail=outcome.log_tail)
    if outcome.memory_exceeded_gb is not None:
        message = (f"cell {cell.cell_id} exceeded its memory limit of {cell.memory_limit_gb:g} GB "
                   f"(resident {outcome.memory_exceeded_gb:.2f} GB) and was stopped")
        return "failed", message, ErrorInfo(type="MemoryLimitExceeded", message=message,
                                            log_tail=outcome.log_tail)
    if outcome.cancelled:
        message = f"cell {cell.cell_id} was stopped by the user (second Ctrl-C, or SIGTERM) before it finished"
        return "failed", message, ErrorInfo(type="Interrupted", message=message, log_tail=outcome.log_tail)
    if error:
        message = str(error.get("message", ""))
        log_tail = "\n".join(filter(None, [error.get("traceback", ""), outcome.log_tail]))
        return "failed", message, ErrorInfo(type=str(error.get("type", "Error")), message=message,
                                            log_tail=log_tail[-8000:])
    if outcome.returncode != 0:
        how = f"signal {outcome.signal_name}" if outcome.signal_name else f"exit code {outcome.returncode}"
        message = f"harness process of {cell.cell_id} died with {how}{_SIGNAL_HINTS.get(outcome.signal_name, '')}"
        return "failed", message, ErrorInfo(type="ProcessCrashed", message=message, log_tail=outcome.log_tail)
    if unsupported:
        # What the backend could do (e.g. inference) is still recorded beside the reason.
        return "unsupported", str(unsupported.get("reason")), None
    if not outcome.first(Event.END):
        message = f"harness of {cell.cell_id} exited without reporting the end of the cell"
        return "failed", message, ErrorInfo(type="IncompleteRun", message=message, log_tail=outcome.log_tail)
    return "ok", None, None


_SIGNAL_HINTS = {
    "SIGSEGV": " (segmentation fault in native code)",
    "SIGABRT": " (aborted, e.g. a failed assertion in native code)",
    "SIGKILL": " (killed from outside; the kernel's out-of-memory killer sends this: see `dmesg`)",
    "SIGBUS": " (bus error in native code)",
    "SIGILL": " (illegal instruction: a binary built for a newer CPU?)",
}
