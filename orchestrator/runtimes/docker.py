"""The Docker runtime: one image per environment (built from docker/Dockerfile), one container per cell.

- Images are tagged by a content hash (orchestrator/environments/images.py) that covers the Dockerfile, the
  requirements, the build arguments and the base image's id: an unchanged environment is reused at once, a changed one rebuilt.
  Builds use the host's network (`network_mode=host`) and stream their log to the console and to
  `<cache>/images/<env>/<variant>-build.log`.
- A cell runs workloads/harness.py in a container with the same spec/events contract as the local runtime:
  the workloads and the data directory are mounted read-only, the run's logs folder (spec, events) is the only
  writable mount, the image's root filesystem is read-only (caches and /tmp are tmpfs), the network is `none`,
  never privileged; a GPU cell gets a device request for its one assigned GPU. Host paths are mounted at the same
  paths, so a result names the same files whichever runtime made it.
- The cell's timeout and the run's cancel flag stop its container; its memory limit is the container's. Every
  container is labelled with its run, cell and owner (this orchestrator's host, PID and start time); a watchdog in
  the container ends the cell when the orchestrator is gone, and the next run removes such containers.
"""

from __future__ import annotations

import io
import os
import signal
import socket
import tarfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, NoReturn

import psutil

from orchestrator.core import workload_files
from orchestrator.execution.process import HarnessOutcome, read_events
from orchestrator.core.processes import tail
from orchestrator.core.clock import now_iso
from orchestrator.environments.layout import EnvPaths, cell_process_env
from orchestrator.core.errors import ConfigError, ContainerEngineError, EnvironmentBuildError, InfrastructureError
from orchestrator.measure.gpus import GpuProbe, probe_gpus
from orchestrator.environments.images import (
    IMAGE_ROOT, Recipe, Variant, base_context_tar, base_tag, gpu_fit, make_recipe,
)
from orchestrator.config.cell import Cell
from orchestrator.config.load import LoadedMatrix
from orchestrator.environments.prepared import Prepared
from orchestrator.environments.venv import parse_freeze
from orchestrator.execution.context import RunContext
from orchestrator.runtimes.base import HarnessLaunch, Log, Runtime

LABEL = "org.orchestrate"
ENGINE_TIMEOUT_S = 10  # to find out whether an engine answers
API_TIMEOUT_S = 300  # for each later call (removing a container can be slow on a loaded machine); builds: none
_CONTAINER_PATHS = EnvPaths(Path(IMAGE_ROOT))
_TMPFS = "rw,exec,nosuid,nodev,mode=1777"
_POLL_S = 0.25


@dataclass(frozen=True)
class EngineProbe:
    """What a Docker engine offers: reachable, its version, and whether it can hand GPUs to containers."""

    reachable: bool
    host: str
    version: str | None = None
    runtimes: list[str] = field(default_factory=list)
    nvidia: bool = False
    nvidia_how: str | None = None
    error: str | None = None


def engine_host() -> str:
    return os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")


def connect() -> Any:
    """A Docker SDK client for $DOCKER_HOST (or the default socket); a clear error when no engine answers."""
    import docker

    try:
        client = docker.from_env(timeout=ENGINE_TIMEOUT_S)
        client.ping()
        client.api.timeout = API_TIMEOUT_S
        return client
    except docker.errors.DockerException as exc:
        raise ContainerEngineError(
            f"no Docker engine answers at {engine_host()} ({exc}); start one (docs/docker.md) or "
            "point DOCKER_HOST at its socket, or use --runtime local"
        ) from None


def probe_engine() -> EngineProbe:
    """Never raises: an unreachable engine is reported as such."""
    try:
        client = connect()
    except ContainerEngineError as exc:
        return EngineProbe(reachable=False, host=engine_host(), error=str(exc))
    try:
        info = client.info()
        version = client.version().get("Version")
    finally:
        client.close()
    runtimes = sorted(info.get("Runtimes", {}))
    how = None
    if "nvidia" in runtimes:
        how = "the engine has the nvidia runtime"
    elif _local_engine() and _which("nvidia-container-runtime-hook"):
        how = "nvidia-container-runtime-hook is installed (device requests use it)"
    return EngineProbe(reachable=True, host=engine_host(), version=version, runtimes=runtimes,
                       nvidia=how is not None, nvidia_how=how)


def _local_engine() -> bool:
    return engine_host().startswith("unix://")


def _which(name: str) -> str | None:
    import shutil

    return shutil.which(name, path=os.environ.get("PATH", "") + ":/usr/bin:/usr/sbin:/usr/local/bin")


def forced_variant() -> Variant | None:
    """The variant ORCHESTRATE_IMAGE_VARIANT forces (gpu or cpu), None when unset; anything else is refused."""
    forced = os.environ.get("ORCHESTRATE_IMAGE_VARIANT")
    if forced in ("gpu", "cpu"):
        return forced  # type: ignore[return-value]
    if forced:
        raise ConfigError(f"ORCHESTRATE_IMAGE_VARIANT={forced!r}: choose gpu or cpu, or unset it to let the "
                          "engine and the GPUs decide")
    return None


def choose_variant(engine: EngineProbe, gpus: GpuProbe) -> tuple[Variant, str]:
    """gpu when the engine can hand out GPUs and NVML sees some; else cpu. ORCHESTRATE_IMAGE_VARIANT overrides."""
    forced = forced_variant()
    if forced:
        return forced, "set by ORCHESTRATE_IMAGE_VARIANT"
    if not gpus.gpus:
        return "cpu", gpus.summary
    if not engine.nvidia:
        return "cpu", "the engine has no NVIDIA container support (install the NVIDIA container toolkit)"
    return "gpu", gpus.summary


def auto_runtime() -> tuple[str, str]:
    """`--runtime auto`: docker when an engine with GPU support and GPUs are present, else local; and why."""
    gpus = probe_gpus()
    if not gpus.gpus:
        return "local", gpus.summary
    engine = probe_engine()
    if not engine.reachable:
        return "local", f"{gpus.summary}, but no Docker engine answers at {engine.host}"
    if not engine.nvidia:
        return "local", f"{gpus.summary}, but the Docker engine has no NVIDIA container support"
    return "docker", f"{gpus.summary}; Docker {engine.version} with {engine.nvidia_how}"


class DockerRuntime(Runtime):
    name = "docker"
    memory_limit_how = "the container's memory limit (cgroup, swap included): the kernel stops the cell there"

    def __init__(self, loaded: LoadedMatrix, cache: Path, log: Log | None = None,
                 variant: Variant | None = None, gpus: GpuProbe | None = None) -> None:
        super().__init__(loaded, cache, log)
        self._client: Any = None
        self._variant = variant
        forced_variant()  # a wrong value is refused before anything runs
        self.gpus = gpus

    # -- engine ---------------------------------------------------------------------------------------------
    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = connect()
            self.reap_orphans()
        return self._client

    @property
    def variant(self) -> Variant:
        if self._variant is None:
            if self.gpus is None:
                self.gpus = probe_gpus()
            self._variant, why = choose_variant(probe_engine(), self.gpus)
            self.log(f"docker: {self._variant} images ({why})")
        return self._variant

    # -- images ---------------------------------------------------------------------------------------------
    def _prepare(self, env_name: str, force: bool) -> Prepared:
        recipe = make_recipe(self.loaded, env_name, self.variant)
        paths = EnvPaths(self.cache / "images" / env_name)
        paths.root.mkdir(parents=True, exist_ok=True)
        build_log = paths.root / f"{recipe.variant}-build.log"
        base_ref, base_id = self._base_image(recipe, build_log)
        tag = recipe.tag(base_id)
        digest = tag.rsplit("-", 1)[-1]
        if not force and self._image_exists(tag):
            self.log(f"{env_name}: image {tag} up to date, reused")
            return self._prepared_from_image(recipe, paths, digest, tag, reused=True)
        self.log(f"{env_name}: building image {tag} from {recipe.dockerfile} on {base_ref}; log: {build_log}")
        start = time.perf_counter()
        labels = {f"{LABEL}.env": env_name, f"{LABEL}.variant": recipe.variant, f"{LABEL}.hash": digest,
                  f"{LABEL}.base": base_ref, f"{LABEL}.base-id": base_id}
        self._build(recipe.context_tar(), tag, dict(recipe.build_args, BASE_IMAGE=base_ref),
                    labels, build_log, f"environment {env_name}: building image {tag}")
        self.log(f"{env_name}: image built in {time.perf_counter() - start:.1f} s")
        return self._prepared_from_image(recipe, paths, digest, tag, reused=False)

    def _base_image(self, recipe: Recipe, build_log: Path) -> tuple[str, str]:
        """The base image's reference and id: present on the engine, pulled, or built from a base Dockerfile."""
        import docker

        if recipe.base_dockerfile is not None:
            tag = base_tag(recipe.base_dockerfile)
            if not self._image_exists(tag):
                self.log(f"{recipe.env_name}: building base image {tag} from {recipe.base_dockerfile}")
                self._build(base_context_tar(recipe.base_dockerfile), tag, {}, {f"{LABEL}.base-of": recipe.env_name},
                            build_log, f"environment {recipe.env_name}: building base image {tag}")
            return tag, self.client.images.get(tag).id
        assert recipe.base_image is not None
        try:
            return recipe.base_image, self.client.images.get(recipe.base_image).id
        except docker.errors.ImageNotFound:
            pass
        self.log(f"{recipe.env_name}: pulling base image {recipe.base_image}")
        try:
            return recipe.base_image, self.client.images.pull(recipe.base_image).id
        except docker.errors.DockerException as exc:
            field_name = "base_image" if recipe.variant == "gpu" else "cpu_base_image"
            raise EnvironmentBuildError(
                f"environment {recipe.env_name}: base image {recipe.base_image} is not on the engine and could not "
                f"be pulled ({exc}); load or build it there, or set environments.{recipe.env_name}.image."
                f"{field_name} in {self.loaded.path} to an image the engine has"
            ) from None

    def _image_exists(self, tag: str) -> bool:
        import docker

        try:
            self.client.images.get(tag)
            return True
        except docker.errors.ImageNotFound:
            return False

    def _build(self, context: bytes, tag: str, build_args: dict[str, str], labels: dict[str, str],
               build_log: Path, what: str) -> None:
        """docker build with the host's network, the log streamed to the console and the build log file."""
        import docker

        with open(build_log, "a") as out:
            out.write(f"\n=== {now_iso()} {what}\n")
            try:
                chunks = self.client.api.build(
                    fileobj=io.BytesIO(context), custom_context=True, tag=tag, buildargs=build_args,
                    labels=labels, network_mode="host", rm=True, forcerm=True, decode=True, pull=False,
                    timeout=None,  # a pip download may be silent for minutes
                )
                error = self._stream_build(chunks, out)
            except docker.errors.DockerException as exc:
                error = str(exc)
        if error:
            raise EnvironmentBuildError(
                f"{what} failed: {error.strip()}\nbuild log: {build_log}\n--- last lines ---\n{tail(build_log, 2500)}"
            )

    def _stream_build(self, chunks: Iterator[dict[str, Any]], out: Any) -> str | None:
        for chunk in chunks:
            if "error" in chunk:
                out.write(f"ERROR: {chunk['error']}\n")
                return str(chunk["error"])
            text = chunk.get("stream") or chunk.get("status") or ""
            if text:
                out.write(text if text.endswith("\n") else text + "\n")
                out.flush()
                for line in text.rstrip("\n").splitlines():
                    if line.strip():
                        self.log(f"  | {line.rstrip()}")
        return None

    def _prepared_from_image(self, recipe: Recipe, paths: EnvPaths, digest: str, tag: str,
                             reused: bool) -> Prepared:
        files = self._read_files(tag, [f"{IMAGE_ROOT}/freeze.txt", f"{IMAGE_ROOT}/python-version.txt"])
        packages = parse_freeze(files.get("freeze.txt", ""))
        python_version = files.get("python-version.txt", "").strip() or recipe.environment.python
        return Prepared(recipe.env_name, recipe.environment, digest, paths, python_version, packages,
                        reused=reused, image=tag)

    def _read_files(self, tag: str, paths: list[str]) -> dict[str, str]:
        """Files from an image, read from a created (never started) container."""
        container = self.client.containers.create(tag, command=["true"], network_mode="none")
        try:
            found = {}
            for path in paths:
                stream, _ = container.get_archive(path)
                with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
                    member = tar.next()
                    handle = tar.extractfile(member) if member else None
                    if handle is not None:
                        found[Path(path).name] = handle.read().decode(errors="replace")
            return found
        finally:
            container.remove(force=True)

    # -- cells ----------------------------------------------------------------------------------------------
    def _cell_env(self, cell: Cell, prepared: Prepared, ctx: RunContext) -> dict[str, str]:
        return container_env(prepared, cell, self._device(ctx))

    def _interpreter(self, prepared: Prepared) -> str:
        return "python"

    def _dataset_cache(self, prepared: Prepared) -> str:
        return f"{IMAGE_ROOT}/cache/datasets"

    def _device(self, ctx: RunContext) -> str | None:
        if self.variant != "gpu":
            return None
        if ctx.slot is not None and ctx.slot.gpu is not None:
            return str(ctx.slot.gpu)
        return "0"

    def _unfit(self, prepared: Prepared, ctx: RunContext) -> str | None:
        """Why this environment's image cannot use the assigned GPU (None when it can, or when unknown)."""
        device = self._device(ctx)
        if device is None or not self.gpus or not self.gpus.gpus:
            return None
        gpu = next((g for g in self.gpus.gpus if device in (str(g.index), g.uuid)), None)
        if gpu is None:
            return None
        recipe = make_recipe(self.loaded, prepared.environment.base or prepared.name, "gpu")  # a configuration: its base's
        fit = gpu_fit(recipe, gpu.name, gpu.compute_capability)
        return None if fit.ok else f"{prepared.name}: {fit.reason}"

    def _execute(self, launch: HarnessLaunch) -> HarnessOutcome:
        """One container per cell, watched from here: it is stopped at the cell's timeout or on cancel, the
        kernel holds its memory limit, and it dies by itself when this process does (see `WATCHDOG`)."""
        import docker

        options = container_options(launch.prepared, launch.cell, launch.ctx, self._device(launch.ctx), launch.env,
                                    self.name, extra_workloads=self.loaded.workloads_dir,
                                    model_file=self.loaded.script_path(launch.cell.workload))
        launch.events_path.unlink(missing_ok=True)
        launch.log_path.parent.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        try:
            container = self.client.containers.create(options.pop("image"), command=watched(launch.command),
                                                      **options)
        except docker.errors.DockerException as exc:
            _failed_to_start(f"container could not be created: {exc}", launch.log_path)
        lifeline = None
        try:
            try:
                lifeline = self.client.api.attach_socket(container.id, params={"stdin": 1, "stream": 1})
                container.start()
            except docker.errors.DockerException as exc:
                _failed_to_start(f"container could not start: {exc}", launch.log_path)
            if launch.on_start:
                launch.on_start(_container_pid(container))
            stop_reason = _wait(container, start + launch.cell.timeout_s, launch.limits.cancel)
            if stop_reason:
                _stop(container)
            returncode = int(container.wait(timeout=60).get("StatusCode", -1))
            container.reload()
            oom_killed = bool(container.attrs.get("State", {}).get("OOMKilled"))
            note = "\n[orchestrate] the container was killed for exceeding its memory (OOMKilled)\n" if oom_killed else ""
            launch.log_path.write_bytes(container.logs(stdout=True, stderr=True) + note.encode())
        finally:
            _close(lifeline)
            container.remove(force=True)
        over_memory = oom_killed and launch.cell.memory_limit_gb is not None and not stop_reason
        return HarnessOutcome(
            returncode=returncode, timed_out=stop_reason == "timeout", wall_s=time.perf_counter() - start,
            events=read_events(launch.events_path), log_tail=tail(launch.log_path),
            signal_name=_signal_name(returncode), cancelled=stop_reason == "cancelled",
            memory_exceeded_gb=launch.cell.memory_limit_gb if over_memory else None,
        )

    # -- orphans --------------------------------------------------------------------------------------------
    def reap_orphans(self) -> list[str]:
        """Remove the cell containers of orchestrators on this host that are gone (a `kill -9`, a lost VM
        session); their labels name the orchestrator's host and process. Returns the names removed."""
        import docker

        removed = []
        for container in self.client.containers.list(all=True, filters={"label": f"{LABEL}.owner"}):
            if not _owner_gone(container.labels.get(f"{LABEL}.owner", "")):
                continue
            try:
                container.remove(force=True)
                removed.append(container.name)
            except docker.errors.DockerException as exc:
                self.log(f"docker: could not remove {container.name}, left by an orchestrator that is gone: {exc}")
        if removed:
            self.log(f"docker: removed {len(removed)} container(s) left by orchestrators that are gone: "
                     f"{', '.join(removed)}")
        return removed


# The container's first process (under docker-init): runs the harness as its child and kills it when its stdin
# closes. The orchestrator holds the other end (an attached stdin, closed once by the engine when that
# connection drops), so a cell's container ends within a second of a SIGKILLed orchestrator. SIGTERM (docker
# stop) is passed on to the harness. Python 3.6-compatible: it runs in every image.
WATCHDOG = """
import os, signal, subprocess, sys, threading
child = subprocess.Popen(sys.argv[1:], stdin=subprocess.DEVNULL)
def lifeline():
    try:
        while os.read(0, 65536):
            pass
    except OSError:
        pass
    child.kill()
threading.Thread(target=lifeline, daemon=True).start()
signal.signal(signal.SIGTERM, lambda signum, frame: child.terminate())
code = child.wait()
sys.exit(128 - code if code < 0 else code)
"""


def watched(command: list[str]) -> list[str]:
    """`command` run under the watchdog (the interpreter named first in `command` runs it too)."""
    return [command[0], "-c", WATCHDOG, *command]


def owner_label() -> str:
    """This orchestrator, as a label value: host, PID and the PID's start time (a reused PID is not us)."""
    me = psutil.Process()
    return f"{socket.gethostname()}:{me.pid}:{me.create_time():.2f}"


def _owner_gone(owner: str) -> bool:
    host, _, rest = owner.partition(":")
    pid, _, created = rest.partition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False  # another machine's orchestrator (a shared engine): not ours to judge
    try:
        return f"{psutil.Process(int(pid)).create_time():.2f}" != created
    except psutil.Error:
        return True


def _wait(container: Any, deadline: float, cancel: threading.Event | None) -> str | None:
    """Wait for the container to exit; "timeout" or "cancelled" when it must be stopped instead."""
    while _running(container):
        if cancel is not None and cancel.is_set():
            return "cancelled"
        if time.perf_counter() >= deadline:
            return "timeout"
        if cancel is not None:
            cancel.wait(_POLL_S)
        else:
            time.sleep(_POLL_S)
    return None


def _running(container: Any) -> bool:
    import docker

    try:
        container.reload()
    except docker.errors.NotFound:
        return False
    return bool(container.attrs.get("State", {}).get("Running"))


def _close(lifeline: Any) -> None:
    if lifeline is None:
        return
    try:
        getattr(lifeline, "_sock", lifeline).close()
    except OSError:
        pass


def _container_pid(container: Any) -> int | None:
    """The host PID of the container's first process (None once it has exited), for the monitor."""
    import docker

    try:
        container.reload()
    except docker.errors.DockerException:
        return None
    pid = container.attrs.get("State", {}).get("Pid") or 0
    return int(pid) or None


def container_env(prepared: Prepared, cell: Cell, device: str | None) -> dict[str, str]:
    """The cell's environment inside the container: the local runtime's rules, with the image's paths."""
    env_vars = cell_process_env(_CONTAINER_PATHS, prepared.environment, cell.threads, cell.seed,
                                base={"USER": "orchestrate", "LANG": "C.UTF-8"})
    env_vars.pop("LD_LIBRARY_PATH", None)  # the image's own (CUDA paths + the environment's lib folder)
    env_vars["CUDA_CACHE_PATH"] = f"{IMAGE_ROOT}/cache/nv"
    # With the nvidia runtime as the engine default, an image could otherwise see every GPU.
    env_vars["NVIDIA_VISIBLE_DEVICES"] = device if device is not None else "void"
    return env_vars


def container_options(prepared: Prepared, cell: Cell, ctx: RunContext, device: str | None,
                      env_vars: dict[str, str], runtime_name: str,
                      extra_workloads: Path | None = None, model_file: Path | None = None) -> dict[str, Any]:
    """Arguments of containers.create for one cell: what is mounted how, and what the container may do."""
    import docker

    workloads = workload_files.workloads_dir()
    volumes = {
        str(workloads): {"bind": str(workloads), "mode": "ro"},
        str(ctx.run_dir.logs_dir): {"bind": str(ctx.run_dir.logs_dir), "mode": "rw"},
    }
    if ctx.data_dir is not None:
        volumes[str(ctx.data_dir)] = {"bind": str(ctx.data_dir), "mode": "ro"}
    if extra_workloads is not None:
        volumes[str(extra_workloads)] = {"bind": str(extra_workloads), "mode": "ro"}
    if model_file is not None:  # a user's model file, read-only at the path the spec names
        volumes[str(model_file)] = {"bind": str(model_file), "mode": "ro"}
    options: dict[str, Any] = {
        "image": prepared.image,
        "name": _container_name(ctx.run_dir.run_id, cell.cell_id),
        "environment": env_vars,
        "working_dir": str(workloads),
        "volumes": volumes,
        "read_only": True,
        "tmpfs": {"/tmp": _TMPFS, f"{IMAGE_ROOT}/cache": _TMPFS},
        "network_mode": "none",
        "privileged": False,
        "user": f"{os.getuid()}:{os.getgid()}",
        "labels": {f"{LABEL}.run": ctx.run_dir.run_id, f"{LABEL}.cell": cell.cell_id,
                   f"{LABEL}.runtime": runtime_name, f"{LABEL}.owner": owner_label()},
        "init": True,
        # The watchdog's lifeline; with it the SDK sets StdinOnce: the engine closes the container's stdin when
        # the orchestrator's attached connection drops.
        "stdin_open": True,
    }
    if cell.memory_limit_gb is not None:  # the kernel holds it; swap counts against it too
        options["mem_limit"] = options["memswap_limit"] = int(cell.memory_limit_gb * 2**30)
    if ctx.slot is not None and ctx.slot.cpus:
        options["cpuset_cpus"] = ",".join(str(c) for c in ctx.slot.cpus)
    if device is not None:
        options["device_requests"] = [docker.types.DeviceRequest(
            driver="nvidia", device_ids=[device], capabilities=[["gpu", "compute", "utility"]])]
    return options


def _container_name(run_id: str, cell_id: str) -> str:
    raw = f"orchestrate-{run_id}-{cell_id}"
    return "".join(c if c.isalnum() or c in "_.-" else "-" for c in raw)[:200]


def _stop(container: Any) -> None:
    """SIGTERM the cell's container, then SIGKILL it after a grace period."""
    try:
        container.stop(timeout=5)
    except Exception:  # noqa: BLE001 - the container may be gone already; kill below is the fallback
        try:
            container.kill()
        except Exception:  # noqa: BLE001
            pass


def _signal_name(returncode: int) -> str | None:
    """Exit statuses above 128 are a signal's death (137 = SIGKILL)."""
    if returncode > 128:
        try:
            return signal.Signals(returncode - 128).name
        except ValueError:
            return None
    return None


def _failed_to_start(message: str, log_path: Path) -> NoReturn:
    """A container that did not start is an infrastructure failure: the scheduler retries the cell."""
    log_path.write_text(message + "\n")
    raise InfrastructureError(message)


__all__ = ["DockerRuntime", "EngineProbe", "auto_runtime", "choose_variant", "connect", "container_env",
           "container_options", "probe_engine"]
