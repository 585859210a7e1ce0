"""The environments, workloads and profiles of a matrix as tables (`orchestrate list [MATRIX]`)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from orchestrator.config.load import load_matrix
from orchestrator.core.workload_files import matrix_file


def list_matrix(matrix: str, console: Console) -> int:
    """Print the matrix's environments, workloads, profiles and default selection; exit code 0."""
    m = load_matrix(matrix_file(matrix)).matrix
    envs = Table(title="Environments")
    for col in ("name", "backend", "keras", "python", "capabilities", "data format", "notes"):
        envs.add_column(col)
    for name, e in m.environments.items():
        envs.add_row(name, e.backend, e.keras, e.python, ",".join(e.capabilities), e.image_data_format,
                     e.notes.strip().splitlines()[0] if e.notes.strip() else "")
    workloads = Table(title="Workloads")
    for col in ("name", "dataset", "epochs", "batch", "upstream"):
        workloads.add_column(col)
    for name, w in m.workloads.items():
        workloads.add_row(name, w.dataset, str(w.epochs), str(w.batch_size), w.upstream)
    profiles = Table(title="Profiles")
    for col in ("name", "epochs", "train samples", "repeats", "timeout s", "description"):
        profiles.add_column(col)
    for name, p in m.profiles.items():
        profiles.add_row(name, str(p.epochs or "upstream"), str(p.train_samples or "all"), str(p.repeats),
                         f"{p.timeout_s:g}", p.description)
    for table in (envs, workloads, profiles):
        console.print(table)
    console.print(f"default: profile {m.default.profile}, environments "
                  f"{', '.join(m.default.environments) or 'all'}, workloads {', '.join(m.default.workloads) or 'all'}")
    return 0
