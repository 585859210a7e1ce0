"""`orchestrate run [MATRIX]`: expand the matrix into cells, run them, write results, a summary and the report
(verdicts first; `--no-report` skips it)."""

from __future__ import annotations

import argparse
import datetime as dt
import shlex
from pathlib import Path

from rich.console import Console

from orchestrator.workflows.setup import data_dir, make_runtime, with_run_options
from orchestrator.workflows.record import STORE_ERROR_EXIT, add_store_option, record_run
from orchestrator.commands._options import MAX_MONITOR_HZ, host_port, number, plain_name
from orchestrator.workflows.report import save_settings, write_report
from orchestrator.measure.cost import record_costs
from orchestrator.core.errors import ConfigError
from orchestrator.measure.host import busy_note, host_info, load_average, other_runs
from orchestrator.config.schema import MAX_PRICE_PER_HOUR, MAX_SLOTS, MAX_TIMEOUT_S
from orchestrator.config.load import LoadedMatrix, load_matrix
from orchestrator.config.expand import expand
from orchestrator.scheduling.progress import RunProgress
from orchestrator.report.terminal import print_summary
from orchestrator.results.schema import CellResult
from orchestrator.rundir.layout import RunDir
from orchestrator.results.io import write_summary
from orchestrator.rundir import RunOwnership, as_write_fault, prepare_reuse
from orchestrator.rundir.fault_notice import stopped_by_fault
from orchestrator.runtimes.base import RunContext, Runtime
from orchestrator.scheduling.resume import ResumePlan, resume_plan
from orchestrator.scheduling.scheduler import Scheduler
from orchestrator.analysis.sequential import design
from orchestrator.analysis.verdicts.settings import Settings
from orchestrator.workflows.rounds import more_rounds, parse_budget
from orchestrator.core import workload_files
from orchestrator.config.adhoc import script_workloads, with_model
from orchestrator.report.failures import print_failures


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run a matrix of environments x workloads")
    p.add_argument("matrix", nargs="?", default="matrix.yaml")
    p.add_argument("--profile", default=None, help="smoke | quick | article (default: the matrix's default)")
    p.add_argument("--env", action="append", dest="envs", metavar="NAME", help="environment (repeatable)")
    p.add_argument("--workload", action="append", dest="workloads", metavar="NAME", help="workload (repeatable)")
    p.add_argument("--all", action="store_true", help="every environment and workload, not the matrix's default selection")
    p.add_argument("--runtime", default="auto",
                   help="auto | local | docker | ray (auto: docker if an engine with GPUs is here, else local)")
    p.add_argument("--results-dir", default="results", help="where runs are written (default: results/)")
    p.add_argument("--data-dir", default=None, help="offline datasets (layout of shared/data); or ORCHESTRATE_DATA_DIR")
    p.add_argument("--data", choices=["real", "synthetic"], default=None, help="override the profile's data source")
    p.add_argument("--run-id", type=plain_name("--run-id"), default=None,
                   help="name of the run, a folder in --results-dir (default: a timestamp)")
    p.add_argument("--timeout", type=number("--timeout", float, 0.0, MAX_TIMEOUT_S, low_open=True, note="seconds"),
                   default=None, help="per-cell timeout in seconds (overrides the profile)")
    p.add_argument("--cache-dir", default=None, help="project cache directory (default: .orchestrate beside the matrix)")
    p.add_argument("--resume", action="store_true",
                   help="with --run-id: keep the run's valid ok results and run the other cells")
    p.add_argument("--fresh", action="store_true",
                   help="with --run-id of a run that has results: move them aside to RUN-ID.1/ (.2/...) and start over")
    p.add_argument("--slots", type=number("--slots", int, 1, MAX_SLOTS), default=None,
                   help="cells at once (default: one per GPU, or the matrix's `slots`, else 1 on a CPU-only machine)")
    p.add_argument("--address", type=host_port("--address"), default=None,
                   help="Ray cluster address HOST:PORT for --runtime ray (default: $RAY_ADDRESS)")
    p.add_argument("--no-report", action="store_true",
                   help="do not write the report (verdicts, plots, report.html) at the end of the run")
    p.add_argument("--monitor-hz", type=number("--monitor-hz", float, 0.0, MAX_MONITOR_HZ, note="(0: off)"),
                   default=10.0,
                   help="GPU/CPU sampling rate per second while a cell runs (default 10; 0 turns monitoring off)")
    p.add_argument("--wheels", default=None, metavar="DIR",
                   help="wheels for existing environments (build: none) that lack Keras: installed into a private "
                        "overlay, never into the interpreter, never from the network")
    p.add_argument("--price-per-hour", type=number("--price-per-hour", float, 0.0, MAX_PRICE_PER_HOUR, low_open=True),
                   default=None, metavar="PRICE",
                   help="the machine's price per hour (overrides the matrix's price.per_hour): cost per epoch and run")
    add_store_option(p, results_default=False)
    p.add_argument("--budget", default=None, metavar="DURATION",
                   help="sequential repeats: after the profile's repeats, more only for undecided pairs until "
                        "decided, 4 looks or this much time in cells, builds apart (15m, 900s, 1h; 'off': fixed "
                        "repeats; default: the profile's `budget`)")
    p.add_argument("--model", default=None, metavar="FILE",
                   help="your model file (docs/your-model.md): run it on keras3-tensorflow, keras3-jax and "
                        "keras3-torch at the compare profile, print the verdict and write the report")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, console: Console) -> int:
    loaded = with_run_options(load_matrix(model_matrix(args)), args.wheels, args.price_per_hour)
    loaded = with_model(loaded, args.model) if args.model else loaded
    if args.resume and not args.run_id:
        raise ConfigError("--resume needs --run-id: the id of the run to continue (a folder in --results-dir)")
    if args.fresh and not args.run_id:
        raise ConfigError("--fresh needs --run-id: the id of the run to start over (a folder in --results-dir)")
    data = data_dir(args.data_dir)
    run_id = args.run_id or dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    run_dir = RunDir(Path(args.results_dir), run_id)
    with RunOwnership(run_dir) as owner:  # one orchestrator per run directory (orchestrator/rundir/)
        moved = prepare_reuse(run_dir, args.resume, args.fresh)
        if args.resume and not run_dir.cells_dir.is_dir():
            raise ConfigError(f"--resume: no run {run_id!r} in {run_dir.path.parent} (no folder {run_dir.cells_dir})")
        run_dir.ensure_writable()
        run_dir.remove_temp_files()
        if moved:
            console.print(f"moved the earlier results of run {run_id!r} to {moved} (nothing deleted)",
                          markup=False, highlight=False, soft_wrap=True)
        runtime = make_runtime(args.runtime, loaded, args.cache_dir, console)
        if args.address is not None:
            if not hasattr(runtime, "address"):
                raise ConfigError(f"--address is for --runtime ray, not --runtime {args.runtime}")
            runtime.address = args.address  # type: ignore[attr-defined]
        owner.record()  # once the run's options are all accepted
        try:
            return _run(args, console, loaded, runtime, run_dir, data)
        finally:
            runtime.close()


def model_matrix(args: argparse.Namespace) -> str:
    """The matrix to read: the one named; with --model and no matrix here, the project's own matrix.yaml."""
    if args.model and args.matrix == "matrix.yaml" and not Path(args.matrix).is_file():
        return str(workload_files.workloads_dir().parent / "matrix.yaml")
    return args.matrix


def chosen(args: argparse.Namespace, loaded: LoadedMatrix) -> dict[str, list[str] | None]:
    """The environments and workloads asked for (None: the matrix's default selection for that side).

    `--all` fills what --env / --workload leave open: `--env cntk --all` is cntk on every workload.
    """
    return {
        "environments": args.envs or (list(loaded.matrix.environments) if args.all else None),
        "workloads": args.workloads or (list(loaded.matrix.workloads) if args.all else None),
    }


def _run(args: argparse.Namespace, console: Console, loaded: LoadedMatrix, runtime: Runtime, run_dir: RunDir,
         data: Path | None) -> int:
    selection = dict(profile=args.profile, **chosen(args, loaded), data=args.data, timeout_s=args.timeout)
    expand(loaded, **selection)  # a bad selection is reported before any slot or cluster is set up
    slots = runtime.slots(args.slots or loaded.matrix.slots)
    slot_cores = min((len(s.cpus) for s in slots), default=0) or None
    cells = expand(loaded, **selection, threads=slot_cores)  # threads: the cores of a slot, unless the matrix sets them
    first_round, settings, budget_s = cells, _settings(args, loaded), _budget(args, loaded)
    kept: list[CellResult] = []
    if args.resume:
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
    scheduler = Scheduler(runtime, RunContext(run_dir=run_dir, data_dir=data, monitor_hz=args.monitor_hz),
                          slots=slots, retries=loaded.matrix.retries,
                          observer=RunProgress(console, run_dir.logs_dir))
    with scheduler.observer:  # type: ignore[attr-defined]
        results = scheduler.run(cells)
        if budget_s is not None and not scheduler.fault:  # repeats spent where the answer is undecided
            results += more_rounds(scheduler, first_round, run_dir, settings, budget_s, console)
    if scheduler.fault:
        return _stopped(args, console, scheduler, run_dir, kept)
    try:
        return _conclude(args, console, loaded, run_dir, scheduler, kept, results, settings)
    except OSError as exc:  # the disk filled (or the folder went) after the last cell: the results are written
        fault = as_write_fault(exc, run_dir, "the run's summary or report", anywhere=True)
        assert fault is not None
        scheduler.fault = fault
        return _stopped(args, console, scheduler, run_dir, kept)


def _stopped(args: argparse.Namespace, console: Console, scheduler: Scheduler, run_dir: RunDir,
             kept: list[CellResult]) -> int:
    assert scheduler.fault is not None
    return stopped_by_fault(console, scheduler.fault, run_dir, scheduler.written, kept, scheduler.unsaved,
                            scheduler.not_run, resume_command(args, run_dir.run_id))


def _conclude(args: argparse.Namespace, console: Console, loaded: LoadedMatrix, run_dir: RunDir,
              scheduler: Scheduler, kept: list[CellResult], results: list[CellResult],
              settings: Settings) -> int:
    """Costs, summary, settings and report once every cell has ended; the exit code."""
    results = record_costs(run_dir, results, loaded.matrix.price)
    report = write_summary(run_dir)
    stored = record_run(args, loaded.matrix.store, loaded.path, run_dir.path, console)  # interrupted or not
    print_summary(kept + results, console, title=f"Run {run_dir.run_id}")
    print_failures(results, script_workloads(loaded), console)
    for path, why in report.rejected.items():
        console.print(f"ignored {path}: {why}", style="yellow", markup=False, highlight=False)
    console.print(f"summary: {run_dir.summary_path}")
    save_settings(run_dir.path, settings)  # `orchestrate report` judges the run the same way later
    interrupted = bool(scheduler.interrupts or scheduler.not_run)
    if interrupted and not args.no_report:  # stop promptly; the report can be made from what was written
        console.print(f"report: not written (interrupted); `orchestrate report {run_dir.path}` makes it",
                      markup=False, highlight=False, soft_wrap=True)
    elif not args.no_report and report.results:
        write_report(run_dir.path, report, run_dir.path / "report", console, settings)
    if interrupted:
        console.print(f"[yellow]interrupted: {len(results)} cell(s) written, {len(scheduler.not_run)} not run.[/yellow]"
                      " To continue, run:", highlight=False)
        console.print(resume_command(args, run_dir.run_id), markup=False, highlight=False, soft_wrap=True)
        return 130
    code = 0 if all(r.status in ("ok", "unsupported") for r in kept + results) else 1
    return code or (0 if stored else STORE_ERROR_EXIT)


def _budget(args: argparse.Namespace, loaded: LoadedMatrix) -> float | None:
    """Seconds for sequential repeats: --budget, else the profile's `budget`; None: the fixed repeats."""
    profile = args.profile or loaded.matrix.default.profile
    if args.budget is not None:
        return parse_budget(args.budget)
    text = loaded.matrix.profiles[profile].budget
    return parse_budget(text, f"{loaded.path}: profiles.{profile}.budget") if text else None


def _settings(args: argparse.Namespace, loaded: LoadedMatrix) -> Settings:
    """The matrix's verdict settings, with the sequential looks when a budget applies (from the first round's
    repeats: 3, 6, 9, 12 for the compare profile)."""
    m = loaded.matrix
    loss_gate = tuple(name for name, profile in m.profiles.items() if profile.validity == "loss")
    if _budget(args, loaded) is None:
        return Settings(m.reference, m.tie_threshold, m.alpha, loss_gate=loss_gate)
    plan = design(m.profiles[args.profile or m.default.profile].repeats)
    return Settings(m.reference, m.tie_threshold, m.alpha, plan.looks, plan.spending, loss_gate)


def _print_resume(console: Console, plan: ResumePlan, total: int) -> None:
    console.print(f"resume: {len(plan.kept)} of {total} cell(s) already have a valid ok result and are skipped; "
                  f"{len(plan.to_run)} to run")
    for cell_id, why in plan.rerun.items():
        console.print(f"  rerun {cell_id}: {why}", markup=False, highlight=False)
    for path, why in plan.rejected.items():
        console.print(f"  ignored {path}: {why}", style="yellow", markup=False, highlight=False)


def resume_command(args: argparse.Namespace, run_id: str) -> str:
    """The command line that continues this run."""
    words = ["orchestrate", "run", args.matrix]
    for flag, value in (("--profile", args.profile), ("--runtime", args.runtime if args.runtime != "auto" else None),
                        ("--results-dir", args.results_dir), ("--data-dir", args.data_dir), ("--data", args.data),
                        ("--timeout", args.timeout), ("--cache-dir", args.cache_dir), ("--slots", args.slots),
                        ("--address", args.address), ("--wheels", args.wheels),
                        ("--price-per-hour", args.price_per_hour), ("--store", args.store),
                        ("--budget", args.budget),
                        ("--model", getattr(args, "model", None))):
        if value is not None:
            words += [flag, str(value)]
    for env in args.envs or []:
        words += ["--env", env]
    for workload in args.workloads or []:
        words += ["--workload", workload]
    if args.all:
        words.append("--all")
    if args.no_report:
        words.append("--no-report")
    return shlex.join([*words, "--run-id", run_id, "--resume"])
