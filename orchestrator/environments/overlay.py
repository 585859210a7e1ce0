"""A private overlay of packages for an interpreter that must not be changed.

What the interpreter lacks is installed from a folder of wheels (never the network) into a folder of its own
(`pip install --target`), which cells put on PYTHONPATH. Only missing distributions are installed, one level
of requirements at a time: a package the interpreter already holds (numpy, the framework's CUDA build) is
never shadowed by another copy, unless its version does not meet a requirement and the wheel folder holds one
that does (an older typing_extensions that pydantic-core cannot import with): that wheel then goes into the
overlay, which comes first on the path. Stdlib and `packaging` only, so that the offline GPU check can run it
before the orchestrator's own requirements are there:

    python -m orchestrator.environments.overlay --python PY --wheels DIR --target DIR REQUIREMENT...
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename

from orchestrator.core.errors import EnvironmentBuildError

MAX_ROUNDS = 12

# Runs inside the interpreter (Python 3.6+): its distributions (overlay included through PYTHONPATH), its
# marker environment (PEP 508), whether it has pip.
_PROBE = r'''
import json, os, platform, re, sys
def canon(name):
    return re.sub(r"[-_.]+", "-", name).lower()
try:
    from importlib import metadata
    packages = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name and canon(name) not in packages:
            packages[canon(name)] = dist.version
except ImportError:
    import pkg_resources
    packages = {canon(d.project_name): d.version for d in pkg_resources.working_set}
impl = sys.implementation
version = "{0.major}.{0.minor}.{0.micro}".format(impl.version)
if impl.version.releaselevel != "final":
    version += impl.version.releaselevel[0] + str(impl.version.serial)
try:
    import pip
    has_pip = True
except ImportError:
    has_pip = False
print(json.dumps({"packages": packages, "python": platform.python_version(), "prefix": sys.prefix,
    "pip": has_pip, "markers": {"implementation_name": impl.name, "implementation_version": version,
    "os_name": os.name, "platform_machine": platform.machine(), "platform_release": platform.release(),
    "platform_system": platform.system(), "platform_version": platform.version(),
    "python_full_version": platform.python_version(),
    "platform_python_implementation": platform.python_implementation(),
    "python_version": ".".join(platform.python_version_tuple()[:2]), "sys_platform": sys.platform}}))
'''


class OverlayError(EnvironmentBuildError):
    """The overlay could not be made; the message says what is missing and where to put it."""


@dataclass
class Probe:
    """What an interpreter holds (with the overlay on its path, if given)."""

    packages: dict[str, str]
    python: str
    prefix: str
    pip: bool
    markers: dict[str, str]


@dataclass
class OverlayResult:
    installed: list[str] = field(default_factory=list)
    # Requirements of overlay packages that the interpreter meets with another version than asked and the wheel
    # folder cannot meet either: kept, not shadowed (the interpreter's own builds win), and recorded.
    mismatches: list[str] = field(default_factory=list)
    # Distributions whose interpreter version did not meet a requirement, replaced by the folder's wheel.
    replaced: list[str] = field(default_factory=list)


def probe(python: Path, overlay: Path | None = None, env: dict[str, str] | None = None) -> Probe:
    """Ask the interpreter what it holds; PYTHONPATH is only the overlay (the caller's is not inherited)."""
    run_env = dict(env if env is not None else os.environ)
    run_env.pop("PYTHONPATH", None)
    if overlay is not None:
        run_env["PYTHONPATH"] = str(overlay)
    proc = subprocess.run([str(python), "-c", _PROBE], capture_output=True, text=True, env=run_env, timeout=120)
    if proc.returncode != 0:
        raise OverlayError(f"interpreter {python} could not list its packages: {proc.stderr.strip()[-1500:]}")
    raw: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return Probe(raw["packages"], raw["python"], raw["prefix"], raw["pip"], raw["markers"])


def overlay_requirements(target: Path) -> list[Requirement]:
    """The requirements (markers unevaluated) of every distribution installed in the overlay."""
    found: list[Requirement] = []
    for meta in sorted(target.glob("*.dist-info/METADATA")):
        for line in meta.read_text(errors="replace").splitlines():
            if not line.startswith("Requires-Dist:"):
                continue
            try:
                found.append(Requirement(line.partition(":")[2].strip()))
            except InvalidRequirement:
                continue
    return found


def missing(requirements: list[Requirement], state: Probe,
            wheels: Path | None = None) -> tuple[list[str], list[str]]:
    """(requirements to install, requirements met by another version that stay so) for this interpreter.

    To install: those whose distribution is absent, and those whose installed version does not meet them when
    the wheel folder holds a version that does."""
    absent: dict[str, str] = {}
    mismatched: list[str] = []
    for req in requirements:
        if req.marker is not None and not req.marker.evaluate(dict(state.markers, extra="")):
            continue
        name = canonicalize_name(req.name)
        have = state.packages.get(name)
        if have is None:
            absent.setdefault(name, f"{req.name}{req.specifier}")
        elif req.specifier and not req.specifier.contains(have, prereleases=True):
            if wheels is not None and folder_meets(wheels, req):
                absent[name] = f"{req.name}{req.specifier}"
            else:
                mismatched.append(f"{req} (the interpreter has {have})")
    return sorted(absent.values()), sorted(set(mismatched))


def folder_meets(wheels: Path, req: Requirement) -> bool:
    """Whether the wheel folder holds a wheel of `req`'s distribution in a version `req` accepts."""
    name = canonicalize_name(req.name)
    for path in wheels.glob("*.whl"):
        try:
            wheel_name, version, _, _ = parse_wheel_filename(path.name)
        except InvalidWheelFilename:
            continue
        if wheel_name == name and req.specifier.contains(version, prereleases=True):
            return True
    return False


def _to_install(wanted: list[str], state: Probe, wheels: Path) -> list[str]:
    """The requested requirements the interpreter (with the overlay) lacks or holds in a version they refuse."""
    return missing([Requirement(w) for w in wanted], state, wheels)[0]


def install(python: Path, wheels: Path, target: Path, requirements: list[str], log: Any = None) -> OverlayResult:
    """Install `requirements` and whichever of their requirements the interpreter lacks into `target`."""
    if not wheels.is_dir():
        raise OverlayError(f"wheel folder {wheels} does not exist")
    target.mkdir(parents=True, exist_ok=True)
    result = OverlayResult()
    wanted = list(requirements)
    state = probe(python, target)
    for _ in range(MAX_ROUNDS):
        wanted = _to_install(wanted, state, wheels)
        if not wanted:
            break
        result.replaced += [f"{w} (the interpreter has {state.packages[canonicalize_name(Requirement(w).name)]})"
                            for w in wanted if canonicalize_name(Requirement(w).name) in state.packages]
        _install_round(python, wheels, target, wanted, state.pip, log)
        result.installed += wanted
        state = probe(python, target)
        wanted, result.mismatches = missing(overlay_requirements(target), state, wheels)
    else:
        raise OverlayError(f"requirements still missing after {MAX_ROUNDS} rounds: {', '.join(wanted)}")
    return result


def _install_round(python: Path, wheels: Path, target: Path, wanted: list[str], has_pip: bool, log: Any) -> None:
    common = ["--no-index", "--no-deps", "--find-links", str(wheels), "--target", str(target)]
    uv = _uv()
    if has_pip:
        args = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "--no-compile", *common, *wanted]
    elif uv:
        args = [uv, "pip", "install", "--python", str(python), *common, *wanted]
    else:
        raise OverlayError(f"interpreter {python} has no pip and uv is not installed: nothing can install the "
                           f"overlay ({', '.join(wanted)})")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_", "PYTHON"))}
    proc = subprocess.run(args, capture_output=True, text=True, env=env, timeout=900)
    if log is not None:
        log.write(f"$ {' '.join(args)}\n{proc.stdout}{proc.stderr}")
    if proc.returncode != 0:
        raise OverlayError(
            f"installing {', '.join(wanted)} from the wheel folder {wheels} failed (nothing is fetched from the "
            f"network: put the missing wheels there, e.g. `pip download --no-deps -d {wheels} NAME==VERSION`):\n"
            f"{(proc.stdout + proc.stderr).strip()[-2000:]}"
        )


def _uv() -> str | None:
    try:
        from uv import find_uv_bin

        return find_uv_bin()
    except (ImportError, FileNotFoundError):
        return shutil.which("uv")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m orchestrator.environments.overlay", description=__doc__.split("\n\n")[0])
    p.add_argument("--python", required=True, type=Path, help="the interpreter the overlay is for")
    p.add_argument("--wheels", required=True, type=Path, help="folder of wheels (nothing comes from the network)")
    p.add_argument("--target", required=True, type=Path, help="the overlay folder (put it on PYTHONPATH)")
    p.add_argument("requirements", nargs="+")
    args = p.parse_args(argv)
    try:
        result = install(args.python, args.wheels, args.target, args.requirements, sys.stderr)
    except OverlayError as exc:
        print(f"overlay: error: {exc}", file=sys.stderr)
        return 2
    print(f"overlay {args.target}: installed {', '.join(result.installed) or 'nothing (all present)'}")
    for line in result.replaced:
        print(f"overlay: the wheel folder's version comes first: {line}")
    for line in result.mismatches:
        print(f"overlay: kept the interpreter's version: {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
