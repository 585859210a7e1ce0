"""`orchestrate run [MATRIX]`: expand the matrix into cells, run them, write results, a summary and the report
(verdicts first; `--no-report` skips it). The options become a `RunRequest`; workflows/run.py carries it out."""

from __future__ import annotations

import argparse

from rich.console import Console

from orchestrator.commands._options import (
    MAX_MONITOR_HZ, VERBOSE_HELP, add_batch_size_option, add_store_option, add_training_options, host_port, number,
    plain_name,
)
from orchestrator.config.schema import MAX_PRICE_PER_HOUR, MAX_SLOTS, MAX_TIMEOUT_S
from orchestrator.workflows.run import RunRequest, run as carry_out


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run a matrix of environments x workloads",
                       description="Run a matrix; results go to ./results (--results-dir), environments to the "
                                   "cache directory (--cache-dir).")
    p.add_argument("matrix", nargs="?", default="matrix.yaml",
                   help="matrix file (default: ./matrix.yaml; without one here, the default comparison bundled "
                        "with the orchestrator)")
    p.add_argument("--profile", default=None, help="smoke | quick | article (default: the matrix's default)")
    p.add_argument("--env", action="append", dest="envs", metavar="NAME", help="environment (repeatable)")
    p.add_argument("--workload", action="append", dest="workloads", metavar="NAME", help="workload (repeatable)")
    p.add_argument("--all", action="store_true", help="every environment and workload, not the matrix's default selection")
    p.add_argument("--runtime", default="auto",
                   help="auto | local | docker | ray (auto: docker if an engine with GPUs is here, else local)")
    p.add_argument("--results-dir", default="results",
                   help="where runs are written (default: ./results, in the current folder)")
    p.add_argument("--data-dir", default=None, help="offline datasets (layout of shared/data); or ORCHESTRATE_DATA_DIR")
    p.add_argument("--data", choices=["real", "synthetic"], default=None, help="override the profile's data source")
    p.add_argument("--run-id", type=plain_name("--run-id"), default=None,
                   help="name of the run, a folder in --results-dir (default: a timestamp)")
    p.add_argument("--timeout", type=number("--timeout", float, 0.0, MAX_TIMEOUT_S, low_open=True, note="seconds"),
                   default=None, help="per-cell timeout in seconds (overrides the profile)")
    p.add_argument("--cache-dir", default=None,
                   help="where environments are built (default: $ORCHESTRATE_CACHE_DIR, else the per-user cache for "
                        "the bundled matrix, e.g. ~/.cache/orchestrate, else .orchestrate beside the matrix)")
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
    p.add_argument("--store-later", action="store_true",
                   help="do not check the store before the first cell: run, then record at the end (on failure the "
                        "JSON is kept and the `orchestrate import` command printed)")
    p.add_argument("--budget", default=None, metavar="DURATION",
                   help="sequential repeats: after the profile's repeats, more only for undecided pairs until "
                        "decided, 4 looks or this much time in cells, builds apart (15m, 900s, 1h; 'off': fixed "
                        "repeats; default: the profile's `budget`)")
    p.add_argument("--model", default=None, metavar="FILE",
                   help="your model file (docs/your-model.md): run it on keras3-tensorflow, keras3-jax and "
                        "keras3-torch at the compare profile, print the verdict and write the report")
    add_batch_size_option(p)
    add_training_options(p)
    p.add_argument("--verbose", action="store_true", help=VERBOSE_HELP)
    p.set_defaults(func=run)


def request(args: argparse.Namespace) -> RunRequest:
    """The run asked for on the command line."""
    return RunRequest(
        matrix=args.matrix, profile=args.profile, environments=tuple(args.envs or ()),
        workloads=tuple(args.workloads or ()), every=args.all, runtime=args.runtime, results_dir=args.results_dir,
        data_dir=args.data_dir, data=args.data, run_id=args.run_id, timeout_s=args.timeout, cache_dir=args.cache_dir,
        resume=args.resume, fresh=args.fresh, slots=args.slots, address=args.address, report=not args.no_report,
        monitor_hz=args.monitor_hz, wheels=args.wheels, price_per_hour=args.price_per_hour, store=args.store,
        store_later=args.store_later, budget=args.budget, model=args.model, verbose=args.verbose,
        batch_sizes=args.batch_sizes, train_steps=args.train_steps, train_epochs=args.train_epochs)


def run(args: argparse.Namespace, console: Console) -> int:
    return carry_out(request(args), console)
