"""`orchestrate run --model FILE`: one user's model file on the Keras 3 training backends, as a matrix workload.

The file becomes a workload named after it (`examples/my_model.py` -> `my_model`) in a copy of the matrix, whose
default selection becomes that workload on keras3-tensorflow, keras3-jax and keras3-torch at the `compare`
profile, judged against keras3-tensorflow, to train and to predict (and to generate where the file records
tokens/s). `--env`, `--profile` and the other options still apply; an `--env`
that is not Keras 3 (an older Keras, a native environment) is refused before anything is built, and the workload
names the matrix's Keras 3 environments as the only ones that run it (so `--all` leaves the others out).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from orchestrator.config.load import LoadedMatrix
from orchestrator.config.schema import Selection, Workload
from orchestrator.config.user_model import check_keras3, check_script, keras3_environments
from orchestrator.core.errors import ConfigError
from orchestrator.core.paths import name_problem

KERAS3_TRAINING = ["keras3-tensorflow", "keras3-jax", "keras3-torch"]
PROFILE = "compare"
DEFAULT_EPOCHS = 3
DEFAULT_BATCH_SIZE = 128
# A user's model is trained and served: each phase gets verdicts (generation only where the file records tokens/s:
# analysis/verdicts/phases.py), whatever the matrix's compare profile judges.
MODEL_JUDGES = ("train", "predict", "generate")


def with_model(loaded: LoadedMatrix, model_file: str, environments: Sequence[str] = ()) -> LoadedMatrix:
    """The matrix with the user's file as a workload and the default selection pointing at it.

    `environments`: the `--env` names asked for; one that is not Keras 3 is refused here, before any build."""
    path = Path(model_file).expanduser().resolve()
    info = check_script(path, f"--model {model_file}")
    name = path.stem
    problem = name_problem(name) or ("contains __, the separator of cell ids" if "__" in name else None)
    if problem:
        raise ConfigError(f"--model {model_file}: the file's name {name!r} names its results and {problem}: "
                          "rename the file (letters, digits, - and _)")
    m = loaded.matrix
    if name in m.workloads:
        raise ConfigError(f"--model {model_file}: {name!r} is already a workload of {loaded.path}: rename the file")
    missing = [env for env in KERAS3_TRAINING if env not in m.environments]
    if missing or PROFILE not in m.profiles:
        raise ConfigError(f"--model: {loaded.path} lacks {', '.join(missing or [f'profile {PROFILE}'])}; run it with "
                          "the project's matrix.yaml")
    keras3 = keras3_environments(m.environments)
    check_keras3(m.environments, list(environments), "--env ", f"--model {model_file}",
                 other_keras3(keras3, loaded.path))
    workload = Workload(script=str(path), epochs=info.epochs or DEFAULT_EPOCHS,
                        batch_size=info.batch_size or DEFAULT_BATCH_SIZE, environments=keras3,
                        description=info.description or f"your model ({path.name})")
    profile = m.profiles[PROFILE].model_copy(update={"judge": list(MODEL_JUDGES)})
    matrix = m.model_copy(update={
        "workloads": {**m.workloads, name: workload},
        "profiles": {**m.profiles, PROFILE: profile},
        "default": Selection(profile=PROFILE, environments=KERAS3_TRAINING, workloads=[name]),
        "reference": KERAS3_TRAINING[0],
    })
    return loaded.model_copy(update={"matrix": matrix})


def other_keras3(keras3: list[str], matrix: Path) -> str:
    """The Keras 3 environments to suggest: the default three, then the matrix's others."""
    others = [name for name in keras3 if name not in KERAS3_TRAINING]
    rest = f", or another Keras 3 environment of {matrix}: {', '.join(others)}" if others else ""
    return f"{', '.join(KERAS3_TRAINING)} (the default){rest}"


def script_workloads(loaded: LoadedMatrix) -> set[str]:
    """The workloads that are users' model files."""
    return {name for name, w in loaded.matrix.workloads.items() if w.script}
