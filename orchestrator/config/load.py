"""Reading a matrix file: YAML, then the schema, with errors that name the file and the field; configurations added
as environments; files checked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from orchestrator.config.schema import CONFIGURATION_SEPARATOR, Environment, Matrix
from orchestrator.config.user_model import check_keras3, check_script, keras3_environments
from orchestrator.core import workload_files
from orchestrator.core.errors import ConfigError


class LoadedMatrix(BaseModel):
    """A validated matrix together with the file it came from (relative paths resolve against it)."""

    model_config = ConfigDict(frozen=True)

    path: Path
    matrix: Matrix
    # `orchestrate run --wheels DIR`: Keras (and helpers) for existing environments that lack it.
    wheels: Path | None = None

    @property
    def root(self) -> Path:
        return self.path.parent

    def requirements_path(self, env_name: str) -> Path:
        env = self.matrix.environments[env_name]
        if env.build == "none":
            raise ConfigError(f"{self.path}: environments.{env_name} is an existing interpreter (build: none): "
                              "it has no requirements file to build from and runs on the local runtime only "
                              "(--runtime local)")
        return self.root / env.requirements

    def wheels_dir(self, env_name: str) -> Path | None:
        """Where an existing environment's missing Keras comes from: --wheels, else the matrix's `wheels`."""
        if self.wheels is not None:
            return self.wheels
        wheels = self.matrix.environments[env_name].wheels
        return (self.root / wheels).resolve() if wheels else None

    def script_path(self, workload: str) -> Path | None:
        """The file named by `workloads.<workload>.script`: relative to the matrix, else to the project's own
        workloads/ folder (`modern/bert_classifier.py`, found from a copy of the matrix anywhere)."""
        script = self.matrix.workloads[workload].script
        if not script:
            return None
        here = (self.root / script).resolve()
        if here.is_file():
            return here
        project = workload_files.workloads_dir() / script
        return project.resolve() if project.is_file() else here

    @property
    def workloads_dir(self) -> Path | None:
        """The matrix's extra workload folder, if it sets one."""
        return (self.root / self.matrix.workloads_dir).resolve() if self.matrix.workloads_dir else None


def load_matrix(path: str | Path) -> LoadedMatrix:
    """Read and validate a matrix file; raise ConfigError naming the file and field on any problem."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: matrix file not found")
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{path}{where}: not valid YAML: {problem}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the top level must be a mapping with environments, workloads and profiles")
    try:
        matrix = Matrix.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_format_validation(path, exc)) from None
    loaded = LoadedMatrix(path=path.resolve(), matrix=with_configurations(matrix))
    _check_files(loaded)
    return loaded


def with_configurations(matrix: Matrix) -> Matrix:
    """The matrix with each environment's configurations added as environments `<env>+<name>` (after their base,
    so that they sort beside it), each sharing its base's build and carrying its settings."""
    environments: dict[str, Environment] = {}
    for name, env in matrix.environments.items():
        environments[name] = env
        for conf_name, conf in env.configurations.items():
            derived = f"{name}{CONFIGURATION_SEPARATOR}{conf_name}"
            if derived in matrix.environments:  # a matrix that was shipped with its derived environments (Ray)
                continue
            environments[derived] = env.model_copy(update={
                "configurations": {}, "base": name, "configuration": conf, "env": {**env.env, **conf.variables()},
                "notes": f"{name} with configuration {conf_name}: {conf.model_dump(exclude_defaults=True)}"})
    return matrix.model_copy(update={"environments": environments})


def _check_files(loaded: LoadedMatrix) -> None:
    for name, env in loaded.matrix.environments.items():
        wheels = loaded.wheels_dir(name)
        if wheels is not None and not wheels.is_dir():
            raise ConfigError(f"{loaded.path}: environments.{name}.wheels: folder {env.wheels!r} not found "
                              f"(looked at {wheels})")
        if env.build == "none":
            continue
        req = loaded.requirements_path(name)
        if not req.is_file():
            raise ConfigError(
                f"{loaded.path}: environments.{name}.requirements: file {env.requirements!r} "
                f"not found (looked at {req})"
            )
    for name, workload in loaded.matrix.workloads.items():
        script = loaded.script_path(name)
        if script is not None:
            check_script(script, f"{loaded.path}: workloads.{name}.script")
            environments = loaded.matrix.environments
            check_keras3(environments, workload.environments, f"{loaded.path}: workloads.{name}.environments: ",
                         f"workloads.{name}.script {workload.script}",
                         ", ".join(keras3_environments(environments)) or "none in this matrix")
    extra = loaded.workloads_dir
    if extra is not None and not extra.is_dir():
        raise ConfigError(f"{loaded.path}: workloads_dir: folder {loaded.matrix.workloads_dir!r} not found "
                          f"(looked at {extra})")


def _format_validation(path: Path, exc: ValidationError) -> str:
    lines = [f"{path}: {exc.error_count()} problem(s) in the matrix"]
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        message = err["msg"]
        if err["type"] == "extra_forbidden":
            allowed = _allowed_keys(err["loc"][:-1])
            message = f"unknown key; allowed keys here: {', '.join(allowed)}" if allowed else "unknown key"
        elif err["type"] == "missing":
            message = "required field is missing"
        elif err["type"] == "value_error":
            message = str(err["ctx"]["error"])
        elif isinstance(err.get("input"), (int, float, str)):
            message = f"{message} (got {err['input']!r})"
            if err["type"] == "string_type" and isinstance(err["input"], float):
                message += "; quote it: YAML reads 3.10 as the number 3.1"
        lines.append(f"  {loc or '(top level)'}: {message}")
    return "\n".join(lines)


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    """Walk the model classes along a field path to list the keys allowed at its end."""
    model: Any = Matrix
    i = 0
    while i < len(loc):
        field = model.model_fields.get(str(loc[i]))
        if field is None:
            return []
        annotation = field.annotation
        inner = _model_in(annotation)
        if inner is None:
            return []
        if _is_dict(annotation):
            i += 1  # skip the dict key (an environment or workload name)
        model = inner
        i += 1
    return sorted(model.model_fields)


def _model_in(annotation: Any) -> Any:
    from typing import get_args

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _is_dict(annotation: Any) -> bool:
    from typing import get_origin

    return get_origin(annotation) is dict
