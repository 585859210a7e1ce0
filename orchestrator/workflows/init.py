"""A folder to start from (`orchestrate init [DIR]`): a `matrix.yaml` and an example model to edit.

The matrix is a copy of the project's default matrix (the checkout's, else the one bundled in the installed
package) whose file paths (`requirements:`, and any `dockerfile:`, `base_dockerfile:`, `wheels:`, `workloads_dir:`)
are made absolute, pointing at the project's own files, so it reads the same from DIR; comments are kept. Built from
the installed package's requirements files, its environments go to the per-user cache and are shared with
`orchestrate run --model` (environments/layout.py). The model is a copy of `examples/my_model.py`. Nothing is
overwritten: an existing file is refused (exit 2) before anything is written.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from rich.console import Console

from orchestrator.config.load import load_matrix
from orchestrator.core import workload_files
from orchestrator.core.errors import ConfigError
from orchestrator.environments.layout import chosen_cache_dir

EXAMPLE_MODEL = "my_model.py"

# A matrix line whose value is a file or folder relative to the matrix: `  requirements: requirements/x.txt  # ...`.
_PATH_LINE = re.compile(r"^(?P<head>\s*(?:requirements|dockerfile|base_dockerfile|wheels|workloads_dir):[ \t]+)"
                        r"(?P<value>[^\s#\"'\[{][^\s#]*)(?P<tail>.*)$")


def init_project(folder: str, console: Console) -> int:
    """Write DIR/matrix.yaml and DIR/my_model.py (refusing to overwrite either); exit code 0."""
    target = Path(folder).expanduser().resolve()
    if target.exists() and not target.is_dir():
        raise ConfigError(f"orchestrate init {folder}: {target} is a file, not a folder; name a folder (made if "
                          "missing)")
    source = workload_files.default_matrix()
    files = {
        target / workload_files.DEFAULT_MATRIX: matrix_text(source),
        target / EXAMPLE_MODEL: (workload_files.examples_dir() / EXAMPLE_MODEL).read_text(),
    }
    for path in files:
        if path.exists() or path.is_symlink():
            raise ConfigError(f"{path}: already exists; orchestrate init never overwrites a file: move it away, or "
                              "run init in another folder")
    target.mkdir(parents=True, exist_ok=True)
    for path, text in files.items():
        with path.open("x") as fh:  # exclusive: a file that appeared meanwhile is not overwritten either
            fh.write(text)
    loaded = load_matrix(target / workload_files.DEFAULT_MATRIX)  # what was written reads back
    _print_next_steps(console, target, source, chosen_cache_dir(None, loaded))
    return 0


def matrix_text(source: Path) -> str:
    """The text of `source` with its relative file paths made absolute (against its folder), and a header."""
    root = source.parent.resolve()
    lines = [_absolute(line, root) for line in source.read_text().splitlines()]
    header = [f"# Written by `orchestrate init` from {source}:",
              "# the default comparison, with its file paths pointing at the orchestrator's own files.",
              "# After the orchestrator is reinstalled elsewhere, run `orchestrate init` again in a new folder",
              "# (or fix the paths).",
              ""]
    return "\n".join(header + lines) + "\n"


def _absolute(line: str, root: Path) -> str:
    m = _PATH_LINE.match(line)
    if m is None or Path(m["value"]).is_absolute() or not (root / m["value"]).exists():
        return line
    return f"{m['head']}{json.dumps(str(root / m['value']))}{m['tail']}"


def _print_next_steps(console: Console, target: Path, source: Path, cache: Path) -> None:
    say = lambda text: console.print(text, markup=False, highlight=False, soft_wrap=True)  # noqa: E731
    say(f"wrote {target / workload_files.DEFAULT_MATRIX} (the default comparison, from {source})")
    say(f"wrote {target / EXAMPLE_MODEL} (an example model to edit: a load(spec) and a build(spec, data) function)")
    say("next, in that folder:")
    say(f"  orchestrate run --model {EXAMPLE_MODEL} --data-dir DATA   # your model on keras3-tensorflow, keras3-jax, "
        "keras3-torch")
    say("  orchestrate run                                      # the default comparison of this matrix.yaml")
    say(f"results go to ./results; environments are built once into {cache} (--cache-dir or "
        "ORCHESTRATE_CACHE_DIR to change)")
