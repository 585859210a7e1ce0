"""Names that become parts of paths, and paths that must stay inside their root.

Run ids, environment, workload and profile names (and the cell ids made of them) name folders and files under
the results and cache directories and Docker image tags. Each must be a plain name, so that no value can reach
outside its folder (`..`, `/`), hide itself (a leading `.`), read as an option (a leading `-`) or pass the
file-name length limit. Matrix names also keep clear of `__`, the separator of cell ids
(`<environment>__<workload>__<profile>__r<repeat>`), so that two cells never share a result file.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from orchestrator.core.errors import ConfigError

MAX_NAME = 64
_PLAIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?")
PLAIN_RULE = (f"letters, digits and . _ - only, starting and ending with a letter or digit, "
              f"at most {MAX_NAME} characters")


def name_problem(value: object) -> str | None:
    """Why `value` is not a plain name, or None when it is one."""
    if not isinstance(value, str):
        return f"must be a name ({PLAIN_RULE}), got {type(value).__name__}"
    if not value:
        return f"must not be empty ({PLAIN_RULE})"
    if len(value) > MAX_NAME:
        return f"is {len(value)} characters long; a name has at most {MAX_NAME}"
    if not _PLAIN.fullmatch(value):
        return f"is not a plain name: use {PLAIN_RULE}"
    return None


def safe_name(value: str, what: str) -> str:
    """`value` if it is a plain name; else a ConfigError that starts with `what` (an option, or file and field)."""
    problem = name_problem(value)
    if problem:
        raise ConfigError(f"{what} {value!r}: {problem}")
    return value


def inside(root: Path, path: Path, what: str) -> Path:
    """`path` if it stays inside `root` once `..` and relative parts are resolved; else a ConfigError.

    The check is on the written path (symbolic links are not followed): a folder the user linked elsewhere on
    purpose stays usable.
    """
    base = Path(os.path.abspath(root))
    full = Path(os.path.abspath(path))
    if full != base and base not in full.parents:
        raise ConfigError(f"{what}: {path} would lie outside {base}")
    return full
