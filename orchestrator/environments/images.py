"""What an environment's Docker image is made of: the recipe, its build context and its content-hash tag.

The recipe is the matrix's `image:` entry with the gaps filled per Keras generation. Legacy stacks (Keras 1.2.2 /
2.x: TensorFlow 1.x, CNTK 2.7, Theano, MXNet) run on CUDA 10.0 / cuDNN 7 with Ubuntu 18.04's Python 3.6; Keras 3
stacks on CUDA 12 (their CUDA libraries come with the framework wheels: jax[cuda12], tensorflow[and-cuda], torch).
Each environment has two variants: `gpu` (a CUDA base) and `cpu` (a plain distribution base).

Nothing here talks to a Docker engine: orchestrator/runtimes/docker.py does, with what this module computes.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import shlex
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from orchestrator.environments.layout import env_hash, keras_config
from orchestrator.environments.pins import installer_pins
from orchestrator.core.errors import ConfigError
from orchestrator.config.schema import Environment, ImageSpec
from orchestrator.config.load import LoadedMatrix
from orchestrator.core.workload_files import docker_dir

Variant = Literal["gpu", "cpu"]

# Bump when the way images are built changes (the Dockerfile contract, the context layout), so old tags go stale.
IMAGE_RECIPE_VERSION = 1

# Where things live inside every image (docker/Dockerfile makes this layout).
IMAGE_ROOT = "/opt/orchestrate/env"

# A path component of a Docker image name (distribution/reference): lowercase runs joined by one separator.
_REPOSITORY_PART = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")


@dataclass(frozen=True)
class Generation:
    """Image defaults shared by the environments of one Keras generation."""

    name: str
    gpu_base_image: str | None
    gpu_base_dockerfile: str | None
    cpu_base_image: str
    cuda: str
    min_compute_capability: float
    max_compute_capability: float | None
    why: str


LEGACY = Generation(
    name="legacy (Keras 1.2.2 / 2.x)",
    gpu_base_image=None,
    # NVIDIA deleted the nvidia/cuda:10.0-* tags from Docker Hub in 2023: the base is built from NVIDIA's apt repo.
    gpu_base_dockerfile="base/cuda10.0-cudnn7.Dockerfile",  # in the project's docker/ folder
    cpu_base_image="ubuntu:18.04",
    cuda="10.0",
    min_compute_capability=3.0,
    max_compute_capability=7.5,
    why="CUDA 10.0 / cuDNN 7 builds (tensorflow-gpu 1.15, cntk-gpu 2.7, mxnet-cu100) have no kernels for "
        "compute capability 8.0+ (Ampere and newer)",
)

KERAS3 = Generation(
    name="Keras 3",
    gpu_base_image="nvidia/cuda:12.4.1-base-ubuntu22.04",
    gpu_base_dockerfile=None,
    cpu_base_image="debian:bookworm-slim",
    cuda="12.4",
    min_compute_capability=5.0,
    max_compute_capability=None,
    why="CUDA 12 dropped Kepler (compute capability 3.x)",
)


def generation(env: Environment) -> Generation:
    return KERAS3 if env.keras_major >= 3 or env.api == "native" else LEGACY


@dataclass(frozen=True)
class Recipe:
    """Everything that defines one image variant of one environment."""

    env_name: str
    variant: Variant
    dockerfile: Path
    base_image: str | None
    base_dockerfile: Path | None
    build_args: dict[str, str]
    files: dict[str, str]
    cuda: str | None
    min_compute_capability: float | None
    max_compute_capability: float | None
    generation: Generation = field(compare=False)
    environment: Environment = field(compare=False, repr=False)

    @property
    def repository(self) -> str:
        return f"orchestrate/{self.env_name.lower()}"

    def tag(self, base_id: str) -> str:
        """`orchestrate/<env>:<variant>-<content hash>`; the hash covers the base image's id, not only its name."""
        return f"{self.repository}:{self.variant}-{self.content_hash(base_id)}"

    def content_hash(self, base_id: str) -> str:
        digest = hashlib.sha256()
        digest.update(self.dockerfile.read_bytes())
        for name in sorted(self.files):
            digest.update(f"\0{name}\0{self.files[name]}".encode())
        recipe_id = json.dumps({
            "recipe": IMAGE_RECIPE_VERSION, "variant": self.variant, "base": self.base_image or "",
            "base_id": base_id, "build_args": self.build_args, "context": digest.hexdigest(),
        }, sort_keys=True)
        requirements = self.files["requirements.txt"]
        return env_hash(self.env_name, self.environment, requirements, recipe_id)

    def context_tar(self) -> bytes:
        """The build context: the Dockerfile and the files it copies, as an uncompressed tar."""
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            _add(tar, "Dockerfile", self.dockerfile.read_bytes())
            for name, text in sorted(self.files.items()):
                _add(tar, name, text.encode())
        return buf.getvalue()


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


def make_recipe(loaded: LoadedMatrix, env_name: str, variant: Variant) -> Recipe:
    """The image recipe of one environment variant, with per-generation defaults filled in."""
    env = loaded.matrix.environments[env_name]
    spec = env.image or ImageSpec()
    gen = generation(env)
    if not _REPOSITORY_PART.fullmatch(env_name.lower()):
        raise ConfigError(f"{loaded.path}: environments.{env_name}: Docker cannot name an image after it "
                          "(it must start and end with a letter or digit, without two separators in a row); "
                          "rename the environment for --runtime docker")
    if env.build == "none":
        raise ConfigError(f"{loaded.path}: environments.{env_name}.build: none names an interpreter already set up "
                          "on this machine; an image cannot be built from it: run it with --runtime local")
    where = f"{loaded.path}: environments.{env_name}.image"
    dockerfile = (_existing(loaded.root / spec.dockerfile, f"{where}.dockerfile") if spec.dockerfile
                  else docker_dir() / "Dockerfile")
    if variant == "gpu":
        base_image = spec.base_image or (None if spec.base_dockerfile or gen.gpu_base_dockerfile
                                         else gen.gpu_base_image)
        if spec.base_dockerfile:
            base_dockerfile = _existing(loaded.root / spec.base_dockerfile, f"{where}.base_dockerfile")
        elif gen.gpu_base_dockerfile and not spec.base_image:
            base_dockerfile = docker_dir() / gen.gpu_base_dockerfile
        else:
            base_dockerfile = None
    else:
        base_image, base_dockerfile = spec.cpu_base_image or gen.cpu_base_image, None
    python = spec.python or f"python{env.python}"
    apt = spec.apt_packages if spec.apt_packages is not None else [
        f"python{env.python}", f"python{env.python}-venv", "ca-certificates", *env.system_packages]
    build_args = {
        "PYTHON": python,
        "APT_PACKAGES": " ".join(apt),
        # pip, setuptools and wheel, installed first as in the local venvs (environments/pins.py)
        "PIP_SPEC": " ".join(installer_pins(env.python)),
        "KERAS_BACKEND": env.backend,
        # Importing a legacy GPU framework needs the driver's libcuda, absent at build time on most builders.
        "CHECK_IMPORT": "0" if variant == "gpu" and gen is LEGACY else "1",
        **spec.build_args,
    }
    if base_image:
        build_args["BASE_IMAGE"] = base_image
    files = {
        "requirements.txt": (_existing(loaded.root / spec.requirements, f"{where}.requirements") if spec.requirements
                             else loaded.requirements_path(env_name)).read_text(),
        "pre-requirements.txt": "".join(f"{line}\n" for line in env.pip_pre),
        "extra-requirements.txt": "".join(f"{line}\n" for line in spec.gpu_requirements) if variant == "gpu" else "",
        "keras.json": json.dumps(keras_config(env), indent=2) + "\n",
        "post-build.sh": "set -euxo pipefail\n" + _no_deps_line(env.no_deps)
                         + "".join(f"{line}\n" for line in spec.post_build),
    }
    return Recipe(
        env_name=env_name, variant=variant, dockerfile=dockerfile, base_image=base_image,
        base_dockerfile=base_dockerfile, build_args=build_args, files=files,
        cuda=(spec.cuda or gen.cuda) if variant == "gpu" else None,
        min_compute_capability=_first(spec.min_compute_capability, gen.min_compute_capability),
        max_compute_capability=_first(spec.max_compute_capability, gen.max_compute_capability),
        generation=gen, environment=env,
    )


def _first(*values: float | None) -> float | None:
    return next((v for v in values if v is not None), None)


def _existing(path: Path, field_name: str) -> Path:
    if not path.is_file():
        raise ConfigError(f"{field_name}: file {path} not found")
    return path


def base_tag(base_dockerfile: Path) -> str:
    """Tag of a base image built from a project Dockerfile (docker/base/*.Dockerfile), by its content."""
    digest = hashlib.sha256(base_dockerfile.read_bytes()).hexdigest()[:16]
    stem = base_dockerfile.name.removesuffix(".Dockerfile").lower()
    return f"orchestrate-base/{stem}:{digest}"


def base_context_tar(base_dockerfile: Path) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        _add(tar, "Dockerfile", base_dockerfile.read_bytes())
    return buf.getvalue()


@dataclass(frozen=True)
class GpuFit:
    ok: bool
    reason: str


def gpu_fit(recipe: Recipe, name: str, compute_capability: float | None) -> GpuFit:
    """Whether the environment's GPU image can use a GPU of this compute capability, and why not."""
    lo, hi = recipe.min_compute_capability, recipe.max_compute_capability
    needs = _needs(lo, hi)
    if compute_capability is None:
        return GpuFit(False, f"{name}: compute capability unknown; the image needs {needs}")
    if lo is not None and compute_capability < lo:
        return GpuFit(False, f"needs compute capability {needs}; {name} is {compute_capability:g}")
    if hi is not None and compute_capability > hi:
        return GpuFit(False, f"needs compute capability {needs} ({recipe.generation.why}); "
                             f"{name} is {compute_capability:g}")
    return GpuFit(True, f"{name} ({compute_capability:g}) is within {needs}")


def _needs(lo: float | None, hi: float | None) -> str:
    if lo is not None and hi is not None:
        return f"{lo:g} to {hi:g}"
    if lo is not None:
        return f">= {lo:g}"
    if hi is not None:
        return f"<= {hi:g}"
    return "any"


def _no_deps_line(packages: list[str]) -> str:
    """The environment's no_deps packages, installed as the local runtime does (after the requirements)."""
    if not packages:
        return ""
    return "/opt/orchestrate/env/venv/bin/python -m pip install --no-deps " + shlex.join(packages) + "\n"
