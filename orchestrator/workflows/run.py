"""A whole run (`orchestrate run`): expand the matrix into cells, run them on the runtime's slots (sequential repeats
when a budget applies), then costs, the summary, recording to the store and the report, whose verdict
ends the output (report/ending.py); the exit code. `RunRequest` holds what was asked in plain values; `run` carries it out."""

from __future__ import annotations

import dataclasses
import datetime as dt
import shlex
from pathlib import Path
from typing import Any

from rich.console import Console

from orchestrator.analysis.break_even import Length
from orchestrator.analysis.sequential import design
from orchestrator.analysis.verdicts.settings import Settings
from orchestrator.config.adhoc import script_workloads, with_model
from orchestrator.config.batch_sizes import size_profile, with_batch_sizes
from orchestrator.config.cell import Cell
from orchestrator.config.expand import expand
from orchestrator.config.load import LoadedMatrix, load_matrix
from orchestrator.config.schema import JUDGED_PHASES
from orchestrator.core import workload_files
from orchestrator.core.errors import ConfigError, StoreError
from orchestrator.core.redaction import redact
from orchestrator.measure.cost import record_costs
from orchestrator.measure.host import busy_note, host_info, load_average, other_runs
from orchestrator.report.failures import print_failures
from orchestrator.report.terminal import print_summary
from orchestrator.results.io import write_summary
from orchestrator.results.schema import CellResult
from orchestrator.rundir import RunOwnership, as_write_fault, prepare_reuse
from orchestrator.rundir.fault_notice import stopped_by_fault
from orchestrator.rundir.layout import RunDir
from orchestrator.runtimes.base import RunContext, Runtime
from orchestrator.scheduling.progress import RunProgress
from orchestrator.scheduling.resume import ResumePlan, resume_plan
from orchestrator.scheduling.scheduler import Scheduler
from orchestrator.workflows.record import STORE_ERROR_EXIT, check_store, record_run
from orchestrator.workflows.report import save_settings, write_report
from orchestrator.workflows.rounds import more_rounds, parse_budget
from orchestrator.workflows.setup import data_dir, make_runtime, with_run_options

INTERRUPTED_EXIT = 130


@dataclasses.dataclass(frozen=True)
class RunRequest:
    """What `orchestrate run` was asked, in plain values (None: the matrix's or the profile's default).

    environments / workloads: the names chosen (empty: the matrix's default selection for that side);
    every: every environment and workload of the matrix where a side is left open.
    """

    matrix: str = "matrix.yaml"
    profile: str | None = None
    environments: tuple[str, ...] = ()
    workloads: tuple[str, ...] = ()
    every: bool = False
    runtime: str = "auto"
    results_dir: str = "results"
    data_dir: str | None = None
    data: str | None = None
    run_id: str | None = None
    timeout_s: float | None = None
    cache_dir: str | None = None
    resume: bool = False
    fresh: bool = False
    slots: int | None = None
    address: str | None = None
    report: bool = True
    monitor_hz: float = 10.0
    wheels: str | None = None
    price_per_hour: float | None = None
    store: str | None = None
    store_later: bool = False  # do not check the store before the first cell: record at the end, as ever
    budget: str | None = None
    model: str | None = None
    verbose: bool = False  # every cell, the fairness table, the method and the plots above the ending
    batch_sizes: tuple[int, ...] = ()  # --batch-size: each workload at each size, profile <profile>.bs<size>
    train_steps: int | None = None  # --train-steps / --train-epochs: the length the break-even predicts totals for
    train_epochs: float | None = None

    @property
    def length(self) -> Length:
        return Length(steps=self.train_steps, epochs=self.train_epochs)


def run(request: RunRequest, console: Console) -> int:
    """Carry out the run; the exit code (0 ok, 1 a cell failed, 3 the store failed, 130 interrupted, 74 a write
    fault stopped it)."""
    loaded = with_run_options(load_matrix(model_matrix(request)), request.wheels, request.price_per_hour)
    loaded = with_model(loaded, request.model, request.environments) if request.model else loaded
    loaded = with_batch_sizes(loaded, request.batch_sizes, request.profile)
    if request.resume and not request.run_id:
        raise ConfigError("--resume needs --run-id: the id of the run to continue (a folder in --results-dir)")
    if request.fresh and not request.run_id:
        raise ConfigError("--fresh needs --run-id: the id of the run to start over (a folder in --results-dir)")
    data = data_dir(request.data_dir)
    run_id = request.run_id or dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    run_dir = RunDir(Path(request.results_dir), run_id)
    with RunOwnership(run_dir) as owner:  # one orchestrator per run directory (orchestrator/rundir/)
        moved = prepare_reuse(run_dir, request.resume, request.fresh)
        if request.resume and not run_dir.cells_dir.is_dir():
            raise ConfigError(f"--resume: no run {run_id!r} in {run_dir.path.parent} (no folder {run_dir.cells_dir})")
        run_dir.ensure_writable()
        run_dir.remove_temp_files()
        if moved:
            console.print(f"moved the earlier results of run {run_id!r} to {moved} (nothing deleted)",
                          markup=False, highlight=False, soft_wrap=True)
        if not request.store_later:  # an unreachable or incompatible store stops the run before any build or cell
            _check_store_first(request, loaded, run_dir)
        runtime = make_runtime(request.runtime, loaded, request.cache_dir, console)
        if request.address is not None:
            if not hasattr(runtime, "address"):
                raise ConfigError(f"--address is for --runtime ray, not --runtime {request.runtime}")
            runtime.address = request.address  # type: ignore[attr-defined]
        owner.record()  # once the run's options are all accepted
        try:
            return _run(request, console, loaded, runtime, run_dir, data)
        finally:
            runtime.close()


def _check_store_first(request: RunRequest, loaded: LoadedMatrix, run_dir: RunDir) -> None:
    """Open the run's store before anything runs (exit 3 if it cannot be used), leaving no empty run folder."""
    try:
        check_store(request.store, request.results_dir, loaded.matrix.store)
    except StoreError:
        run_dir.remove_if_empty()
        raise


def model_matrix(request: RunRequest) -> str:
    """The matrix to read: the one named; with none named and no matrix.yaml here, the project's own (the checkout's,
    else the copy bundled in the installed package)."""
    return str(workload_files.matrix_file(request.matrix))


def chosen(request: RunRequest, loaded: LoadedMatrix) -> dict[str, list[str] | None]:
    """The environments and workloads asked for (None: the matrix's default selection for that side).

    `every` fills what the chosen environments / workloads leave open: `--env cntk --all` is cntk on every workload.
    """
    every_env = list(loaded.matrix.environments) if request.every else None
    every_workload = list(loaded.matrix.workloads) if request.every else None
    return {
        "environments": list(request.environments) or every_env,
        "workloads": list(request.workloads) or every_workload,
    }


def _run(request: RunRequest, console: Console, loaded: LoadedMatrix, runtime: Runtime, run_dir: RunDir,
         data: Path | None) -> int:
    selection = dict(**chosen(request, loaded), data=request.data, timeout_s=request.timeout_s)
    expand_all(request, loaded, selection)  # a bad selection is reported before any slot or cluster is set up
    slots = runtime.slots(request.slots or loaded.matrix.slots)
    slot_cores = min((len(s.cpus) for s in slots), default=0) or None
    cells = expand_all(request, loaded, selection, slot_cores)  # threads: a slot's cores, unless the matrix sets them
    first_round = cells
    settings = run_settings(loaded, request.profile, request.budget)
    budget_s = budget_seconds(loaded, request.profile, request.budget)
    kept: list[CellResult] = []
    if request.resume:
        plan = resume_plan(cells, run_dir)
        _print_resume(console, plan, len(cells))
        cells, kept = plan.to_run, plan.kept
    runtime.prepare_host(list(dict.fromkeys(c.environment for c in cells)))  # system packages, before any build
    console.print(f"run [bold]{run_dir.run_id}[/bold]: {len(cells)} cell(s) on the {runtime.name} runtime, "
                  f"{len(slots)} slot(s) ({', '.join(s.name for s in slots)}), "
                  f"data from {data or 'the canonical origins (download cache)'}; results in {run_dir.path}")
    busy = busy_note(load_average(), host_info().cpu_count,
                     other_runs()) if runtime.name != "ray" else None  # Ray: the nodes'
    if busy:
        console.print(f"[yellow]warning:[/yellow] {busy}")
    scheduler = Scheduler(runtime, RunContext(run_dir=run_dir, data_dir=data, monitor_hz=request.monitor_hz),
                          slots=slots, retries=loaded.matrix.retries,
                          observer=RunProgress(console, run_dir.logs_dir))
    with scheduler.observer:  # type: ignore[attr-defined]
        results = scheduler.run(cells)
        if budget_s is not None and not scheduler.fault:  # repeats spent where the answer is undecided
            results += more_rounds(scheduler, first_round, run_dir, settings, budget_s, console)
    if scheduler.fault:
        return _stopped(request, console, scheduler, run_dir, kept)
    try:
        return _conclude(request, console, loaded, run_dir, scheduler, kept, results, settings)
    except OSError as exc:  # the disk filled (or the folder went) after the last cell: the results are written
        fault = as_write_fault(exc, run_dir, "the run's summary or report", anywhere=True)
        assert fault is not None
        scheduler.fault = fault
        return _stopped(request, console, scheduler, run_dir, kept)


def _stopped(request: RunRequest, console: Console, scheduler: Scheduler, run_dir: RunDir,
             kept: list[CellResult]) -> int:
    assert scheduler.fault is not None
    return stopped_by_fault(console, scheduler.fault, run_dir, scheduler.written, kept, scheduler.unsaved,
                            scheduler.not_run, resume_command(request, run_dir.run_id))


def _conclude(request: RunRequest, console: Console, loaded: LoadedMatrix, run_dir: RunDir,
              scheduler: Scheduler, kept: list[CellResult], results: list[CellResult],
              settings: Settings) -> int:
    """Costs, summary, settings and report once every cell has ended; the exit code."""
    results = record_costs(run_dir, results, loaded.matrix.price)
    report = write_summary(run_dir)
    stored = record_run(request.store, request.results_dir, loaded.matrix.store, loaded.path, run_dir.path,
                        console)  # interrupted or not
    interrupted = bool(scheduler.interrupts or scheduler.not_run)
    ending = request.report and bool(report.results) and not interrupted  # the verdict, last (report/ending.py)
    if request.verbose or not ending:  # with an ending, the cells are in report.html
        print_summary(kept + results, console, title=f"Run {run_dir.run_id}")
    print_failures(results, script_workloads(loaded), console)
    for path, why in report.rejected.items() if not ending else ():  # the ending names them
        console.print(f"ignored {path}: {why}", style="yellow", markup=False, highlight=False)
    console.print(f"summary: {run_dir.summary_path}")
    save_settings(run_dir.path, settings)  # `orchestrate report` judges the run the same way later
    if interrupted and request.report:  # stop promptly; the report can be made from what was written
        console.print(f"report: not written (interrupted); `orchestrate report {run_dir.path}` makes it",
                      markup=False, highlight=False, soft_wrap=True)
    elif ending:
        write_report(run_dir.path, report, run_dir.path / "report", console, settings, verbose=request.verbose,
                     length=request.length)
    if interrupted:
        console.print(f"[yellow]interrupted: {len(results)} cell(s) written, {len(scheduler.not_run)} not run.[/yellow]"
                      " To continue, run:", highlight=False)
        console.print(resume_command(request, run_dir.run_id), markup=False, highlight=False, soft_wrap=True)
        return INTERRUPTED_EXIT
    if not stored:  # the store missed the run: say so by the exit code even when a cell failed too (the summary
        return STORE_ERROR_EXIT  # names failed cells; a script waiting for 3 runs the printed import command)
    return 0 if all(r.status in ("ok", "unsupported") for r in kept + results) else 1


def expand_all(request: RunRequest, loaded: LoadedMatrix, selection: dict[str, Any],
               threads: int | None = None) -> list[Cell]:
    """The cells of the selection: at the profile asked for, or (--batch-size) at each size's profile in turn."""
    base = request.profile or loaded.matrix.default.profile
    profiles = [size_profile(base, size) for size in request.batch_sizes] or [request.profile]
    return [cell for profile in profiles for cell in expand(loaded, profile=profile, **selection, threads=threads)]


def budget_seconds(loaded: LoadedMatrix, profile: str | None, budget: str | None) -> float | None:
    """Seconds for sequential repeats: `budget` (--budget), else the profile's `budget`; None: the fixed repeats."""
    name = profile or loaded.matrix.default.profile
    if budget is not None:
        return parse_budget(budget)
    text = loaded.matrix.profiles[name].budget
    return parse_budget(text, f"{loaded.path}: profiles.{name}.budget") if text else None


def run_settings(loaded: LoadedMatrix, profile: str | None, budget: str | None) -> Settings:
    """The matrix's verdict settings, with the sequential looks when a budget applies (from the first round's
    repeats: 3, 6, 9, 12 for the compare profile)."""
    m = loaded.matrix
    loss_gate = tuple(name for name, p in m.profiles.items() if p.validity == "loss")
    unjudged = tuple((name, phase) for name, p in m.profiles.items() for phase in JUDGED_PHASES
                     if phase not in p.judge)
    if budget_seconds(loaded, profile, budget) is None:
        return Settings(m.reference, m.tie_threshold, m.alpha, loss_gate=loss_gate, unjudged=unjudged)
    plan = design(m.profiles[profile or m.default.profile].repeats)
    return Settings(m.reference, m.tie_threshold, m.alpha, plan.looks, plan.spending, loss_gate, unjudged)


def _print_resume(console: Console, plan: ResumePlan, total: int) -> None:
    console.print(f"resume: {len(plan.kept)} of {total} cell(s) already have a valid ok result and are skipped; "
                  f"{len(plan.to_run)} to run")
    for cell_id, why in plan.rerun.items():
        console.print(f"  rerun {cell_id}: {why}", markup=False, highlight=False)
    for path, why in plan.rejected.items():
        console.print(f"  ignored {path}: {why}", style="yellow", markup=False, highlight=False)


def resume_command(request: RunRequest, run_id: str) -> str:
    """The command line that continues this run (a store URL's password as ***: put it back, or keep it in
    PGPASSWORD or ~/.pgpass)."""
    words = ["orchestrate", "run", request.matrix]
    for flag, value in (("--profile", request.profile),
                        ("--runtime", request.runtime if request.runtime != "auto" else None),
                        ("--results-dir", request.results_dir), ("--data-dir", request.data_dir),
                        ("--data", request.data), ("--timeout", request.timeout_s),
                        ("--cache-dir", request.cache_dir), ("--slots", request.slots),
                        ("--address", request.address), ("--wheels", request.wheels),
                        ("--price-per-hour", request.price_per_hour),
                        ("--store", redact(request.store) if request.store else None),
                        ("--budget", request.budget), ("--model", request.model),
                        ("--batch-size", ",".join(map(str, request.batch_sizes)) or None),
                        ("--train-steps", request.train_steps), ("--train-epochs", request.train_epochs)):
        if value is not None:
            words += [flag, str(value)]
    for env in request.environments:
        words += ["--env", env]
    for workload in request.workloads:
        words += ["--workload", workload]
    if request.every:
        words.append("--all")
    if request.store_later:
        words.append("--store-later")
    if not request.report:
        words.append("--no-report")
    if request.verbose:
        words.append("--verbose")
    return shlex.join([*words, "--run-id", run_id, "--resume"])
