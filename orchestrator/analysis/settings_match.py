"""Settings that silently differ between backends, compared: which comparisons ran under unequal settings.

A "backend X is slow" report is often a mismatch of settings no one chose: TF32 allowed for float32 matmuls on one
backend and not on another, a different `steps_per_execution`, a jit request that fell back, torch.compile
recompiling or breaking its graph during fit. Each result records them (`CellResult.backend_settings`, read back
after fit by workloads/settings_probe.py; `model.hyperparameters.jit_compile`); here the environments of each
workload x profile are compared and every difference becomes a `SettingsFlag`. A TF32 difference is recorded but
not flagged where TF32 cannot matter (a CPU, a GPU below compute capability 8.0). report/fairness.py and
report/ending.py render the flags; nothing is decided there.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from orchestrator.results.schema import CellResult

TF32_CAPABILITY = (8, 0)  # TF32 tensor cores: NVIDIA Ampere and later
KINDS = ("tf32_matmul", "tf32_conv", "steps_per_execution", "jit_fallback", "recompiles", "graph_breaks")


@dataclass(frozen=True)
class EnvSettings:
    """One environment's recorded settings over the results given (its repeats of one workload x profile)."""

    environment: str
    matmul: str  # the framework's own setting in words, e.g. "float32_matmul_precision 'highest'"
    tf32_matmul: bool | None  # float32 matmuls may run in TF32 (or lower); None: not known
    tf32_conv: bool | None
    tf32_here: bool | None  # TF32 can matter where it ran: False on a CPU or a GPU below 8.0; None: unknown
    where: str  # "CPU", "GPU 8.0", "GPU (compute capability unknown)", "unknown"
    steps_per_execution: int | None = None
    recompiles: int | None = None  # torch.compile: the most over the repeats; None: not compiled or not recorded
    graph_breaks: int | None = None
    graph_break_reasons: tuple[str, ...] = ()
    jit_fallback: str | None = None  # why a compile request did not hold, in words

    def tf32_text(self) -> str:
        """'TF32 allowed', 'TF32 off', or split by op where matmuls and convolutions differ."""
        if self.tf32_matmul == self.tf32_conv or self.tf32_conv is None:
            return _tf32_word(self.tf32_matmul)
        return f"matmuls {_tf32_word(self.tf32_matmul)}, convolutions {_tf32_word(self.tf32_conv)}"

    def compile_text(self) -> str | None:
        if self.recompiles is None and self.graph_breaks is None:
            return None
        return f"{self.recompiles or 0} recompiles, {self.graph_breaks or 0} graph breaks"


@dataclass(frozen=True)
class SettingsFlag:
    """One unequal setting behind a comparison (or one setting that taints an environment's own times)."""

    workload: str
    profile: str
    kind: str  # one of KINDS
    environments: tuple[str, ...]
    message: str  # the sentence the report prints
    flagged: bool = True  # False: recorded only (TF32 cannot matter where the cells ran)


def _tf32_word(value: bool | None) -> str:
    return "TF32 allowed" if value is True else "TF32 off" if value is False else "TF32 unknown"


def _capability(text: Any) -> tuple[int, int] | None:
    try:
        major, _, minor = str(text).partition(".")
        return int(major), int(minor or 0)
    except ValueError:
        return None


def _host_capability(r: CellResult) -> Any:
    """The compute capability NVML gave for the cell's GPU (host.device gpu:N), else for the host's first GPU."""
    gpus = r.host.gpus
    index = r.host.device.partition(":")[2]
    chosen = [g for g in gpus if str(g.get("index")) == index] or gpus[:1]
    return chosen[0].get("compute_capability") if chosen else None


def tf32_applies(r: CellResult) -> tuple[bool | None, str]:
    """Whether TF32 can matter where the cell ran, and where that was in words."""
    matmul = r.backend_settings.matmul if r.backend_settings else {}
    device = matmul.get("device") or (r.host.framework_device or {}).get("kind")
    if device == "cpu":
        return False, "CPU"
    if device != "gpu":
        return None, "unknown"
    capability = _capability(matmul.get("compute_capability") or _host_capability(r))
    if capability is None:
        return None, "GPU (compute capability unknown)"
    return capability >= TF32_CAPABILITY, f"GPU {capability[0]}.{capability[1]}"


def matmul_words(matmul: dict[str, Any]) -> str:
    """The framework's own float32 matmul setting as the report names it."""
    framework = matmul.get("framework")
    if framework == "torch":
        text = f"float32_matmul_precision '{matmul.get('float32_matmul_precision')}'"
        if "cudnn_allow_tf32" in matmul:
            text += f", cudnn.allow_tf32 {matmul['cudnn_allow_tf32']}"
        return text
    if framework == "tensorflow":
        on = matmul.get("tensor_float_32_execution")
        return "tensor_float_32_execution " + ("on" if on is True else "off" if on is False else "unknown")
    if framework == "jax":
        value = matmul.get("default_matmul_precision")
        return f"jax_default_matmul_precision {value!r}" + (" (XLA's default)" if value is None else "")
    return str(matmul.get("note") or f"{framework}: not read")


def _jit_fallback(r: CellResult) -> str | None:
    jit = r.model.hyperparameters.get("jit_compile")
    if isinstance(jit, dict) and jit.get("requested") is True and jit.get("resolved") is False:
        return f"jit_compile=True was requested but Keras resolved it to False ({jit.get('means')})"
    compiled = (r.backend_settings.torch_compile or {}) if r.backend_settings else {}
    if compiled.get("requested") and compiled.get("frames_compiled") == 0:
        return "torch.compile was requested but dynamo compiled no frame during fit"
    return None


def env_settings(environment: str, results: Iterable[CellResult]) -> EnvSettings | None:
    """The settings one environment's results recorded (None when none has them: results before them)."""
    recorded = [r for r in results if r.backend_settings is not None]
    if not recorded:
        return None
    first = recorded[0]
    matmul = first.backend_settings.matmul if first.backend_settings else {}
    here, where = tf32_applies(first)
    compiled = [r.backend_settings.torch_compile for r in recorded
                if r.backend_settings and r.backend_settings.torch_compile and
                r.backend_settings.torch_compile.get("compiled")]
    recompiles = [int(c["recompiles"]) for c in compiled if isinstance(c.get("recompiles"), int)]
    breaks = [int(c["graph_breaks"]) for c in compiled if isinstance(c.get("graph_breaks"), int)]
    reasons: list[str] = []
    for c in compiled:
        reasons += [str(x) for x in c.get("graph_break_reasons") or () if str(x) not in reasons]
    steps = [r.backend_settings.steps_per_execution for r in recorded if r.backend_settings]
    fallback = next((why for r in recorded if (why := _jit_fallback(r))), None)
    return EnvSettings(
        environment=environment, matmul=matmul_words(matmul), tf32_matmul=matmul.get("tf32_matmul"),
        tf32_conv=matmul.get("tf32_conv"), tf32_here=here, where=where,
        steps_per_execution=next((s for s in steps if s is not None), None),
        recompiles=max(recompiles) if recompiles else None, graph_breaks=max(breaks) if breaks else None,
        graph_break_reasons=tuple(reasons), jit_fallback=fallback)


def settings_by_environment(results: Iterable[CellResult]) -> dict[str, EnvSettings]:
    """Per environment, over all its results (the fairness table's rows)."""
    by_env: dict[str, list[CellResult]] = {}
    for r in results:
        by_env.setdefault(r.environment.name, []).append(r)
    found = {name: env_settings(name, cells) for name, cells in sorted(by_env.items())}
    return {name: s for name, s in found.items() if s is not None}


def _tf32_flag(key: tuple[str, str], kind: str, settings: Sequence[EnvSettings]) -> SettingsFlag | None:
    """TF32 allowed on some environments and off on others: flagged where some environment that allows it ran
    where TF32 exists (or may: a GPU of unknown capability); recorded only otherwise."""
    value = {s.environment: getattr(s, kind) for s in settings}
    on = [s for s in settings if value[s.environment] is True]
    off = [s for s in settings if value[s.environment] is False]
    if not on or not off:
        return None
    ops = "float32 matmuls" if kind == "tf32_matmul" else "float32 convolutions"
    names = tuple(s.environment for s in on + off)
    allowed = ", ".join(f"{s.environment} ({s.matmul})" for s in on)
    refused = ", ".join(f"{s.environment} ({s.matmul})" for s in off)
    verb = "allows" if len(on) == 1 else "allow"
    sentence = f"{allowed} {verb} TF32 in {ops} while {refused} {'runs' if len(off) == 1 else 'run'} them in full " \
               "float32"
    matters = [s for s in on if s.tf32_here is not False]
    if not matters:
        wheres = sorted({s.where for s in settings})
        why = "n/a on CPU" if wheres == ["CPU"] else f"n/a here ({', '.join(wheres)}: TF32 needs compute " \
                                                      "capability 8.0 or later)"
        return SettingsFlag(*key, kind, names, f"{sentence}: {why}", flagged=False)
    maybe = " (if that GPU has TF32)" if all(s.tf32_here is None for s in matters) else ""
    return SettingsFlag(*key, kind, names, f"{sentence}: their times are not comparable on a GPU{maybe}")


def _group_flags(key: tuple[str, str], settings: list[EnvSettings]) -> list[SettingsFlag]:
    flags = [f for kind in ("tf32_matmul", "tf32_conv") if (f := _tf32_flag(key, kind, settings))]
    steps = {s.environment: s.steps_per_execution for s in settings if s.steps_per_execution is not None}
    if len(set(steps.values())) > 1:
        listed = ", ".join(f"{env} {n}" for env, n in steps.items())
        flags.append(SettingsFlag(*key, "steps_per_execution", tuple(steps),
                                  f"steps_per_execution differs ({listed}): batches per compiled call are not "
                                  "the same, nor is the per-step overhead"))
    for s in settings:
        if s.jit_fallback:
            flags.append(SettingsFlag(*key, "jit_fallback", (s.environment,), f"{s.environment}: {s.jit_fallback}"))
        if s.recompiles:
            flags.append(SettingsFlag(*key, "recompiles", (s.environment,),
                                      f"{s.environment} recompiled {s.recompiles} time"
                                      f"{'s' if s.recompiles != 1 else ''} during fit (torch.compile): its "
                                      "epoch times include compiling"))
        if s.graph_breaks:
            first = f" (first: {s.graph_break_reasons[0]})" if s.graph_break_reasons else ""
            flags.append(SettingsFlag(*key, "graph_breaks", (s.environment,),
                                      f"{s.environment}: torch.compile broke the graph {s.graph_breaks} time"
                                      f"{'s' if s.graph_breaks != 1 else ''} during fit{first}: parts ran eagerly"))
    return flags


def compare_settings(results: Iterable[CellResult]) -> list[SettingsFlag]:
    """Per workload x profile, the environments' recorded settings compared: one flag per difference (and per
    recompiling or graph-breaking environment), in workload, profile, kind order; recorded-only ones included
    (`flagged` False)."""
    groups: dict[tuple[str, str], dict[str, list[CellResult]]] = {}
    for r in results:
        key = (r.workload.name, r.workload.profile)
        groups.setdefault(key, {}).setdefault(r.environment.name, []).append(r)
    flags: list[SettingsFlag] = []
    for key in sorted(groups):
        settings = [s for env, cells in sorted(groups[key].items()) if (s := env_settings(env, cells))]
        flags += _group_flags(key, settings)
    return sorted(flags, key=lambda f: (f.workload, f.profile, KINDS.index(f.kind)))


def flagged(flags: Iterable[SettingsFlag]) -> list[SettingsFlag]:
    """The flags that make a comparison unequal here (the recorded-only ones left out)."""
    return [f for f in flags if f.flagged]
