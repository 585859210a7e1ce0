"""What this machine can run, and why not where it cannot (`orchestrate doctor [--matrix FILE]`).

Checks the Docker engine (reachable, version, NVIDIA container support), the GPUs NVML sees (with their compute
capability), and for every environment of the matrix: its image variant, base, CUDA version, the compute
capabilities its GPU image supports, and on which of this machine's GPUs it can run.
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from orchestrator.core.errors import ConfigError, InterpreterNotFound
from orchestrator.measure.gpus import GpuProbe, probe_gpus
from orchestrator.environments.images import Recipe, gpu_fit, make_recipe
from orchestrator.environments.interpreters import find_interpreter
from orchestrator.config.load import LoadedMatrix, load_matrix
from orchestrator.core.workload_files import matrix_file
from orchestrator.runtimes.docker import EngineProbe, auto_runtime, choose_variant, probe_engine


def doctor(matrix: str, console: Console) -> int:
    """Print the engine, the GPUs, what `--runtime auto` would choose and the environments of `matrix` here;
    exit code 0."""
    loaded = load_matrix(matrix_file(matrix))
    engine = probe_engine()
    gpus = probe_gpus()
    _print_engine(console, engine)
    _print_gpus(console, gpus)
    variant, why = choose_variant(engine, gpus)
    if engine.reachable:
        console.print(f"Docker images here: {variant} variant ({why})", markup=False, highlight=False)
    kind, reason = auto_runtime()
    console.print(f"--runtime auto would choose: {kind} ({reason})", markup=False, highlight=False)
    console.print(environment_table(loaded, gpus))
    return 0


def _print_engine(console: Console, engine: EngineProbe) -> None:
    if not engine.reachable:
        console.print(f"Docker engine: not reachable. {engine.error}", markup=False, highlight=False)
        return
    console.print(f"Docker engine: {engine.version} at {engine.host}; runtimes: {', '.join(engine.runtimes)}",
                  markup=False, highlight=False)
    nvidia = engine.nvidia_how or ("absent: install the NVIDIA container toolkit and run "
                                   "`nvidia-ctk runtime configure --runtime=docker` (docs/docker.md, Azure GPU VM)")
    console.print(f"NVIDIA container support: {nvidia}", markup=False, highlight=False)


def _print_gpus(console: Console, gpus: GpuProbe) -> None:
    if not gpus.gpus:
        console.print(f"GPUs: {gpus.summary}; cells run on the CPU", markup=False, highlight=False)
        return
    console.print(f"GPUs: driver {gpus.driver} (CUDA {gpus.cuda_driver})", markup=False, highlight=False)
    for g in gpus.gpus:
        cc = "unknown" if g.compute_capability is None else f"{g.compute_capability:g}"
        console.print(f"  GPU {g.index}: {g.name}, compute capability {cc}, {g.memory_gb} GiB, {g.uuid}",
                      markup=False, highlight=False)


def environment_table(loaded: LoadedMatrix, gpus: GpuProbe) -> Table:
    table = Table(title="Environments on this machine")
    for col in ("environment", "local runtime", "GPU image", "CPU image", "GPUs here"):
        table.add_column(col, overflow="fold")
    for name, env in loaded.matrix.environments.items():
        if env.build == "none":  # an interpreter already set up: no image, local runtime only
            table.add_row(name, f"existing interpreter {env.interpreter or env.python}", "-", "-", "local runtime only")
            continue
        try:
            gpu = make_recipe(loaded, name, "gpu")
            cpu = make_recipe(loaded, name, "cpu")
        except ConfigError as exc:  # an image this environment cannot have: say why in its row, check the others
            table.add_row(name, _local(env.python, env.interpreter), str(exc), "", "")
            continue
        table.add_row(name, _local(env.python, env.interpreter), _gpu_image(gpu), cpu.base_image or "",
                      fits_here(gpu, gpus))
    return table


def _local(python: str, explicit: str | None) -> str:
    try:
        return f"Python {python}: {find_interpreter(python, explicit)}"
    except InterpreterNotFound as exc:
        return f"Python {python} missing: {str(exc).splitlines()[0]}"


def _gpu_image(recipe: Recipe) -> str:
    base = recipe.base_image or f"built from {recipe.base_dockerfile.name if recipe.base_dockerfile else '?'}"
    lo, hi = recipe.min_compute_capability, recipe.max_compute_capability
    needs = f">= {lo:g}" if lo is not None else "any"
    if hi is not None:
        needs = f"{lo:g} to {hi:g}" if lo is not None else f"<= {hi:g}"
    return f"CUDA {recipe.cuda} on {base}; compute capability {needs}"


def fits_here(recipe: Recipe, gpus: GpuProbe) -> str:
    """One line per GPU of this machine: can the environment's GPU image run there, and if not why."""
    if not gpus.gpus:
        return "no GPU here: CPU image only"
    lines = []
    for g in gpus.gpus:
        fit = gpu_fit(recipe, g.name, g.compute_capability)
        lines.append(f"GPU {g.index}: {'yes' if fit.ok else 'no'} ({fit.reason})")
    return "\n".join(lines)
