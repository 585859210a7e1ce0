"""Argument types that check a command-line value at the edge: numbers in range, plain names, HOST:PORT.

Each is an argparse `type=` callable. A refusal is a ConfigError that names the option and the value
(`--slots 0: must be between 1 and 256`); argparse lets it through, and `orchestrate` prints it as every other
user error (`error: ...`, exit 2, no traceback) before anything runs.
"""

from __future__ import annotations

from typing import Callable, TypeVar

from orchestrator.core.errors import ConfigError
from orchestrator.core.paths import safe_name

Number = TypeVar("Number", int, float)

MAX_MONITOR_HZ = 1000.0


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
