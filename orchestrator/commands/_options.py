"""Argparse pieces the commands share: argument types that check a value at the edge (numbers in range, plain
names, HOST:PORT) and option groups several commands take (--store, the verdict and analysis options, the store's
filters), with `verdict_settings` reading the verdict options back.

Each type is an argparse `type=` callable. A refusal is a ConfigError that names the option and the value
(`--slots 0: must be between 1 and 256`); argparse lets it through, and `orchestrate` prints it as every other
user error (`error: ...`, exit 2, no traceback) before anything runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Callable, TypeVar

from orchestrator.analysis.break_even import Length
from orchestrator.analysis.stats import NOISE_CV
from orchestrator.analysis.verdicts.settings import ALPHA, TIE_THRESHOLD, Settings
from orchestrator.config.batch_sizes import parse_batch_sizes
from orchestrator.core.errors import ConfigError
from orchestrator.core.paths import safe_name
from orchestrator.workflows.history import Filters
from orchestrator.workflows.report import settings_for

Number = TypeVar("Number", int, float)

MAX_MONITOR_HZ = 1000.0
MAX_TRAIN_STEPS = 10**12
MAX_TRAIN_EPOCHS = 1_000_000.0
VERBOSE_HELP = ("also print every cell (one row per repeat), the fairness table, the detailed verdict tables, the "
                "method and the plot paths above the verdict (all of it is in report.html either way)")


def number(option: str, kind: type[Number], low: Number, high: Number, *,
           low_open: bool = False, high_open: bool = False, note: str = "") -> Callable[[str], Number]:
    """A type that reads `kind` and keeps it within low..high (`low_open` / `high_open`: the bound excluded)."""
    above = f"more than {low:g}" if low_open else f"at least {low:g}"
    below = f"less than {high:g}" if high_open else f"at most {high:g}"
    rule = f"between {low:g} and {high:g}" if not (low_open or high_open) else f"{above} and {below}"
    rule += f" {note}" if note else ""

    def parse(text: str) -> Number:
        try:
            value = kind(text)
        except ValueError:
            raise ConfigError(f"{option} {text}: not {'a whole number' if kind is int else 'a number'}; "
                              f"give one {rule}") from None
        fits_low = low < value if low_open else low <= value
        fits_high = value < high if high_open else value <= high
        if not (fits_low and fits_high):  # NaN fails both
            raise ConfigError(f"{option} {text}: must be {rule}")
        return value

    return parse


def plain_name(option: str) -> Callable[[str], str]:
    """A type for a value that names a folder or file (a run id): letters, digits and . _ - only."""
    return lambda text: safe_name(text, option)


def host_port(option: str) -> Callable[[str], str]:
    """A type for a cluster address: HOST:PORT (a `ray://` prefix allowed) or `auto`."""

    def parse(text: str) -> str:
        if text == "auto":
            return text
        host, sep, port = text.removeprefix("ray://").rpartition(":")
        host = host.strip("[]")  # an IPv6 host in brackets
        if not sep or not host or not port.isdigit() or not 1 <= int(port) <= 65535:
            raise ConfigError(f"{option} {text}: write HOST:PORT with a port from 1 to 65535, e.g. "
                              f"{option} 127.0.0.1:6379 (the address `ray start --head` printed)")
        return text

    return parse


def add_store_option(p: argparse.ArgumentParser, results_default: bool = True) -> None:
    """--store (and --results-dir, where the default store lies, unless the command has its own)."""
    p.add_argument("--store", default=None, metavar="URL",
                   help="postgresql://USER@HOST:PORT/DB (its password: PGPASSWORD or ~/.pgpass, or in the URL; it "
                        "is never written), or an SQLite file (default: the matrix's `store:`, else "
                        "store.sqlite in the results directory); `off`: do not record")
    if results_default:
        p.add_argument("--results-dir", default="results", help="where runs are written (default: results/)")


def add_filter_options(p: argparse.ArgumentParser) -> None:
    """The store's filters: --env, --workload, --profile, --host."""
    p.add_argument("--env", default=None, metavar="NAME", help="only this environment")
    p.add_argument("--workload", default=None, metavar="NAME", help="only this workload")
    p.add_argument("--profile", default=None, metavar="NAME", help="only this profile")
    p.add_argument("--host", default=None, help="only this hostname or host fingerprint (or its first characters)")


def store_filters(args: argparse.Namespace) -> Filters:
    """The filters of `add_filter_options`."""
    return Filters(environment=args.env, workload=args.workload, profile=args.profile, host=args.host)


def add_verdict_options(p: argparse.ArgumentParser, reference: bool = True) -> None:
    """--reference (unless `reference` is False), --tie-threshold and --alpha; read back by `verdict_settings`."""
    if reference:
        p.add_argument("--reference", default=None, metavar="ENV",
                       help="environment every ratio is taken to (default: the run's matrix `reference`, "
                            "tensorflow1; on a workload it did not run, keras3-tensorflow, else the first "
                            "environment of the run)")
    p.add_argument("--tie-threshold", type=number("--tie-threshold", float, 0.0, 1.0, high_open=True),
                   default=None, metavar="FRACTION",
                   help="differences under this fraction are never called (default: the run's matrix setting, "
                        f"else {TIE_THRESHOLD})")
    p.add_argument("--alpha", type=number("--alpha", float, 0.0, 1.0, low_open=True, high_open=True), default=None,
                   help=f"family-wise significance level: Holm over every decision of the report (default: the run's, "
                        f"else {ALPHA})")


def verdict_settings(args: argparse.Namespace, run_path: Path | None = None) -> Settings:
    """The verdict options of `add_verdict_options`, else what `orchestrate run` saved in the run folder."""
    return settings_for(run_path, getattr(args, "reference", None), args.tie_threshold, args.alpha)


def add_analysis_options(p: argparse.ArgumentParser) -> None:
    """--target (time to accuracy, repeatable) and --noise-cv."""
    p.add_argument("--target", action="append", default=[], metavar="WORKLOAD=ACCURACY",
                   help="time-to-accuracy target, e.g. mnist_mlp=0.97 (repeatable)")
    p.add_argument("--noise-cv", type=number("--noise-cv", float, 0.0, 1.0, low_open=True, high_open=True),
                   default=NOISE_CV,
                   help=f"flag a measurement noisy above this coefficient of variation (default {NOISE_CV})")


def add_training_options(p: argparse.ArgumentParser) -> None:
    """--train-steps / --train-epochs: the training length the break-even predicts each backend's total for
    (docs/choosing.md); read back by `training_length`."""
    group = p.add_mutually_exclusive_group()
    group.add_argument("--train-steps", type=number("--train-steps", int, 1, MAX_TRAIN_STEPS), default=None,
                       metavar="N",
                       help="your training's length in steps: the report predicts each backend's total time for it "
                            "(one-off + N steady steps) and says where the fastest changes with the length")
    group.add_argument("--train-epochs", type=number("--train-epochs", float, 0.0, MAX_TRAIN_EPOCHS, low_open=True),
                       default=None, metavar="E",
                       help="the same in epochs, converted with the workload's steps per epoch as measured (the "
                            "profile's samples at its batch size)")


def training_length(args: argparse.Namespace) -> Length:
    """The length of `add_training_options` (neither given: no totals, the crossovers only)."""
    return Length(steps=args.train_steps, epochs=args.train_epochs)


def add_batch_size_option(p: argparse.ArgumentParser) -> None:
    """--batch-size 32,128,512 (`orchestrate run`): each selected workload at each size, one row each."""
    p.add_argument("--batch-size", type=parse_batch_sizes, default=(), dest="batch_sizes", metavar="SIZES",
                   help="comma-separated batch sizes, e.g. 32,128,512: every selected workload (a --model file "
                        "too) runs at each, as the profile <profile>.bs<size> with its own verdict; the report "
                        "says where the fastest backend changes with the size")
