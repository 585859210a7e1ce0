"""Scale-out on Ray: each cell is a Ray task that holds one slot of the cluster (a GPU, or a custom `slot`
resource on CPU-only nodes) and runs the cell with the node's own local runtime, the harness being a
subprocess in the environment's interpreter (Ray workers cannot live inside Python 3.6 environments).

- The driver ships the matrix (validated, with its requirements files and extra workloads) with each task;
  a node unpacks it once into its cache and prepares each environment once (reused by content hash, built
  under the environment's lock, environments/locks.py, so two tasks on one node, or on nodes sharing a cache
  folder, never build the same environment at the same time).
- Results come back as task return values and are written into the driver's results directory by the
  scheduler as each cell finishes, with the cell's log and events.
- A task lost with its worker or node is retried elsewhere by Ray (max_retries: the matrix's `retries`);
  a workload's own failure is an ordinary (failed) return value and is never retried. The attempts are
  counted by a small ledger actor and recorded in CellResult.attempts.
- Without --address (or $RAY_ADDRESS) a private single-node cluster is started on 127.0.0.1.

Every node needs: this project at the same commit with its Python deps and the `ray` extra, the Python
interpreters the environments use, the datasets ($ORCHESTRATE_DATA_DIR) and, optionally, its own cache
($ORCHESTRATE_CACHE_DIR); docs/ray.md walks through a cluster of Azure GPU VMs.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import socket
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import yaml

from orchestrator.execution.assemble import failure_result
from orchestrator.core.clock import now_iso
from orchestrator.execution.spec import spec_paths
from orchestrator.environments.layout import env_paths
from orchestrator.core.errors import ConfigError, InfrastructureError, OrchestratorError
from orchestrator.config.cell import Cell
from orchestrator.config.load import LoadedMatrix, load_matrix
from orchestrator.config.expand import default_threads
from orchestrator.results.schema import CellResult, Status
from orchestrator.rundir.layout import RunDir
from orchestrator.core.files import write_json_atomic
from orchestrator.environments.prepared import Prepared
from orchestrator.execution.context import RunContext
from orchestrator.runtimes.base import Log, Runtime
from orchestrator.execution.slots import Slot

SLOT_RESOURCE = "slot"
LOG_LIMIT = 1_000_000                 # characters of a cell's log copied back to the driver
BUILD_ALLOWANCE_S = 3 * 3600          # how long a node may spend preparing an environment, beyond the timeout
_POLL_S = 0.2


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ConfigError("--runtime ray needs Ray: install the orchestrator with its `ray` extra "
                          "(pip install -e '.[ray]')") from None
    return ray


def loopback_env(private: bool = True) -> None:
    """Keep a local Ray on this machine: no usage reporting, no cluster mode for Windows/macOS.

    A private cluster (one this process starts) gets token authentication with a token held only in this
    process's environment (inherited by its workers and by the `orchestrate` children that join it): Ray's
    default would write ~/.ray/auth_token, the user's global config. Joining a cluster (`private=False`)
    leaves Ray's authentication settings as the caller has them. Call it before `import ray`: Ray reads
    these settings when it is imported.
    """
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    if private and "RAY_AUTH_MODE" not in os.environ:
        os.environ["RAY_AUTH_MODE"] = "token"
        os.environ.setdefault("RAY_AUTH_TOKEN", secrets.token_hex(32))


class RayRuntime(Runtime):
    name = "ray"

    def __init__(self, loaded: LoadedMatrix, cache: Path, log: Log | None = None, address: str | None = None) -> None:
        super().__init__(loaded, cache, log)
        self.address = address
        self._connected_here = False
        self._temp_dir: str | None = None
        self._task_options: dict[str, Any] = {}
        self._ledger: Any = None
        self._remote: Any = None
        self._bundle = make_bundle(loaded)

    # ---------------------------------------------------------------- the cluster

    def connect(self, slots: int | None = None) -> None:
        """Join the cluster at --address / $RAY_ADDRESS, or start a private one on 127.0.0.1 with `slots` slots."""
        address = self.address or os.environ.get("RAY_ADDRESS")
        loopback_env(private=not address)  # before Ray's first import: it reads these settings then
        ray = _ray()
        if ray.is_initialized():
            return
        if address:
            self.log(f"ray: joining the cluster at {address}")
            host = address.split("://")[-1].rsplit(":", 1)[0]
            local = {"_node_ip_address": "127.0.0.1"} if host in ("127.0.0.1", "localhost") else {}
            try:
                ray.init(address=address, log_to_driver=False, **local)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                raise ConfigError(f"--address {address}: cannot join the Ray cluster ({exc}); is `ray start --head` "
                                  "running there, and is this the address it printed?") from None
        else:
            count = slots or 1
            self._temp_dir = tempfile.mkdtemp(prefix="orchestrate-ray-")
            self.log(f"ray: starting a private cluster on 127.0.0.1 with {count} slot(s) ({self._temp_dir})")
            ray.init(num_cpus=len(os.sched_getaffinity(0)), resources={SLOT_RESOURCE: count},
                     include_dashboard=False, _node_ip_address="127.0.0.1", _temp_dir=self._temp_dir,
                     log_to_driver=False)
        self._connected_here = True

    def slots(self, requested: int | None) -> list[Slot]:
        """One slot per GPU of the cluster, else per unit of its `slot` resource (at most `requested`)."""
        ray = _ray()
        self.connect(requested)
        resources = ray.cluster_resources()
        gpus, custom = int(resources.get("GPU", 0)), int(resources.get(SLOT_RESOURCE, 0))
        if gpus:
            count, self._task_options = gpus, {"num_gpus": 1, "num_cpus": 0}
        elif custom:
            count, self._task_options = custom, {"resources": {SLOT_RESOURCE: 1}, "num_cpus": 0}
        else:
            raise ConfigError(
                "the Ray cluster offers neither GPUs nor a `slot` resource: start CPU-only nodes with "
                "`ray start ... --resources '{\"slot\": N}'` (N cells at once on that node)")
        count = min(count, requested) if requested else count
        nodes = sum(1 for n in ray.nodes() if n.get("Alive"))
        self.log(f"ray: {count} slot(s) on {nodes} node(s) ({'GPU' if gpus else SLOT_RESOURCE} resource)")
        return [Slot(index=i, label=f"ray-slot{i}") for i in range(count)]

    def close(self) -> None:
        if self._connected_here:
            _ray().shutdown()  # a private cluster stops with it; a joined cluster keeps running
            self._connected_here = False
        if self._temp_dir:
            _remove_tree(Path(self._temp_dir))
            self._temp_dir = None

    # ---------------------------------------------------------------- cells

    def _prepare(self, env_name: str, force: bool) -> Prepared:
        """Nothing to do on the driver: each node prepares the environment the first time a cell needs it."""
        env = self.loaded.matrix.environments[env_name]
        return Prepared(env_name, env, "prepared-on-each-node", env_paths(self.cache, env_name), env.python)

    def run_cell(self, cell: Cell, prepared: Prepared, ctx: RunContext) -> CellResult:
        """Send the cell to a node, where the one pipeline runs it (the node's LocalRuntime.run_cell); bring its
        result, spec, events, log and monitor series back. Cancel and the Ray-side deadline are watched here."""
        ray = _ray()
        if not self._task_options:
            self.slots(None)
        ledger = self._attempt_ledger()
        key = f"{cell.cell_id}/{uuid.uuid4().hex}"
        payload = {
            "bundle": self._bundle, "cell": cell.model_dump(mode="json"), "run_id": ctx.run_dir.run_id,
            "cache_dir": str(self.cache), "data_dir": str(ctx.data_dir) if ctx.data_dir else None,
            "threads_from_node": self.loaded.matrix.threads is None, "attempt_key": key,
            "monitor_hz": ctx.monitor_hz,
        }
        if self._remote is None:
            self._remote = ray.remote(run_on_node)
        remote = self._remote.options(
            name=cell.cell_id, max_retries=self.loaded.matrix.retries, retry_exceptions=False, **self._task_options)
        started = now_iso()
        ref = remote.remote(payload, ledger)
        allowance_s = BUILD_ALLOWANCE_S + cell.timeout_s * (self.loaded.matrix.retries + 1)
        deadline = time.monotonic() + allowance_s
        while True:
            ready, _ = ray.wait([ref], timeout=_POLL_S)
            if ready:
                break
            if ctx.cancel is not None and ctx.cancel.is_set():
                ray.cancel(ref, force=True)
                return self._lost(cell, ctx, started, "Interrupted",
                                  f"cell {cell.cell_id} was stopped by the user (second Ctrl-C) before it finished")
            if time.monotonic() > deadline:
                ray.cancel(ref, force=True)
                return self._lost(cell, ctx, started, "Timeout",
                                  f"Ray task of {cell.cell_id} did not end within {allowance_s:g} s (the cell's timeout "
                                  f"for each of its attempts, plus {BUILD_ALLOWANCE_S} s to prepare its environment)",
                                  status="timeout")
        attempts = self._attempts(ledger, key)
        try:
            out = ray.get(ref, timeout=60)
        except ray.exceptions.RayTaskError as exc:  # the node code itself failed (not the workload)
            return self._lost(cell, ctx, started, "NodeError", f"the Ray task of {cell.cell_id} raised: {exc}",
                              attempts=attempts)
        except ray.exceptions.RayError as exc:  # worker or node lost more often than Ray retries
            return self._lost(cell, ctx, started, "TaskLost",
                              f"the Ray task of {cell.cell_id} was lost {attempts} time(s): {type(exc).__name__}: "
                              f"{str(exc).splitlines()[0] if str(exc) else ''}", attempts=attempts)
        if out.get("infrastructure_error"):
            raise InfrastructureError(f"on node {out.get('node')}: {out['infrastructure_error']}")
        self._copy_back(cell, ctx, out)
        result = CellResult.model_validate(out["result"])
        if result.monitor and out.get("monitor_series") is None:  # the node kept no series: name none
            result = result.model_copy(update={"monitor": dict(result.monitor, series_file=None)})
        environment = result.environment.model_copy(update={"runtime": f"ray+{result.environment.runtime}"})
        return result.model_copy(update={"attempts": attempts, "environment": environment})

    def _copy_back(self, cell: Cell, ctx: RunContext, out: dict[str, Any]) -> None:
        """The cell's spec, events, log and monitor series, into the driver's run folder beside its result."""
        spec, events, log = spec_paths(ctx.run_dir.logs_dir, cell)
        ctx.run_dir.logs_dir.mkdir(parents=True, exist_ok=True)
        if out.get("spec"):
            write_json_atomic(spec, out["spec"])
        events.write_text(out.get("events", ""))
        log.write_text(f"[ran on Ray node {out.get('node')}]\n" + out.get("log", ""))
        if out.get("monitor_series") is not None:
            ctx.run_dir.cells_dir.mkdir(parents=True, exist_ok=True)
            (ctx.run_dir.cells_dir / f"{cell.cell_id}.monitor.csv").write_text(out["monitor_series"])

    def _lost(self, cell: Cell, ctx: RunContext, started: str, kind: str, message: str, status: Status = "failed",
              attempts: int = 1) -> CellResult:
        env = self.loaded.matrix.environments[cell.environment]
        return failure_result(cell, env, self.name, ctx.run_dir.run_id, RuntimeError(message), started, attempts,
                              error_type=kind, status=status)

    def _attempt_ledger(self) -> Any:
        if self._ledger is None:
            ray = _ray()
            from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

            here = NodeAffinitySchedulingStrategy(ray.get_runtime_context().get_node_id(), soft=True)
            self._ledger = ray.remote(AttemptLedger).options(num_cpus=0, scheduling_strategy=here).remote()
        return self._ledger

    def _attempts(self, ledger: Any, key: str) -> int:
        try:
            return max(1, int(_ray().get(ledger.count.remote(key), timeout=30)))
        except Exception:  # noqa: BLE001 - the count is a record, never a reason to lose a result
            return 1


class AttemptLedger:
    """A Ray actor counting the attempts of each task (Ray retries tasks without telling their caller)."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def started(self, key: str) -> None:
        self.counts[key] = self.counts.get(key, 0) + 1

    def count(self, key: str) -> int:
        return self.counts.get(key, 0)


# ---------------------------------------------------------------- the matrix, shipped with each task

def make_bundle(loaded: LoadedMatrix) -> dict[str, Any]:
    """The matrix as data: its validated model with requirements and workloads renamed into the bundle."""
    matrix = loaded.matrix.model_dump(mode="json")
    files: dict[str, str] = {}
    for name, env in loaded.matrix.environments.items():
        if env.base is not None:  # a configuration: derived again on the node from its base's `configurations`
            del matrix["environments"][name]
            continue
        if env.build == "none":  # an existing interpreter: no requirements file
            continue
        rel = f"requirements/{name}.txt"
        files[rel] = loaded.requirements_path(name).read_text()
        matrix["environments"][name]["requirements"] = rel
    if loaded.workloads_dir is not None:
        for path in sorted(loaded.workloads_dir.glob("*.py")):
            files[f"workloads/{path.name}"] = path.read_text()
        matrix["workloads_dir"] = "workloads"
    for name in loaded.matrix.workloads:  # users' model files travel with the matrix (docs/your-model.md)
        script = loaded.script_path(name)
        if script is not None:
            rel = f"models/{name}/{script.name}"
            files[rel] = script.read_text()
            matrix["workloads"][name]["script"] = rel
    digest = hashlib.sha256(json.dumps([matrix, files], sort_keys=True).encode()).hexdigest()[:16]
    return {"digest": digest, "source": str(loaded.path), "matrix": matrix, "files": files}


def unpack_bundle(bundle: dict[str, Any], cache: Path) -> LoadedMatrix:
    """Write a bundle once per node (atomically: a temporary folder renamed) and load its matrix."""
    target = cache / "ray" / "matrices" / bundle["digest"]
    if not (target / "matrix.yaml").is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".unpack-", dir=target.parent))
        for rel, text in bundle["files"].items():
            (staging / rel).parent.mkdir(parents=True, exist_ok=True)
            (staging / rel).write_text(text)
        (staging / "matrix.yaml").write_text(f"# shipped by the driver from {bundle['source']}\n"
                                              + yaml.safe_dump(bundle["matrix"], sort_keys=False))
        try:
            staging.rename(target)
        except OSError:  # another task on this node unpacked it first
            _remove_tree(staging)
    return load_matrix(target / "matrix.yaml")


def _remove_tree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


# ---------------------------------------------------------------- on the node

def run_on_node(payload: dict[str, Any], ledger: Any) -> dict[str, Any]:
    """The Ray task: prepare the environment on this node (once) and run the cell with the local runtime."""
    from orchestrator.runtimes.local import LocalRuntime

    ray = _ray()
    if ledger is not None:
        try:
            ray.get(ledger.started.remote(payload["attempt_key"]), timeout=30)
        except Exception:  # noqa: BLE001 - counting attempts must not stop the cell
            pass
    node = socket.gethostname()
    cache = Path(os.environ.get("ORCHESTRATE_CACHE_DIR") or payload["cache_dir"])
    data = os.environ.get("ORCHESTRATE_DATA_DIR") or payload["data_dir"]
    loaded = unpack_bundle(payload["bundle"], cache)
    cell = Cell.model_validate(payload["cell"])
    if payload["threads_from_node"]:
        cell = cell.model_copy(update={"threads": node_threads()})
    runtime = LocalRuntime(loaded, cache, warm=False)  # one cell per task: no warm parent to stop later
    run_dir = RunDir(cache / "ray" / "runs", payload["run_id"])
    run_dir.ensure_writable()
    broken = run_dir.path / "broken" / f"{cell.environment}.txt"
    try:
        if broken.is_file():
            raise OrchestratorError(broken.read_text())
        prepared = _prepare_once(runtime, cache, cell.environment, payload["bundle"]["digest"])
    except InfrastructureError as exc:
        return {"infrastructure_error": str(exc), "node": node}
    except OrchestratorError as exc:
        broken.parent.mkdir(parents=True, exist_ok=True)
        broken.write_text(str(exc))  # the other cells of this environment on this node fail fast
        env = loaded.matrix.environments[cell.environment]
        result = failure_result(cell, env, runtime.name, payload["run_id"], exc, now_iso())
        return {"result": result.model_dump(mode="json"), "node": node, "log": str(exc)}
    ctx = RunContext(run_dir=run_dir, data_dir=Path(data) if data else None, monitor_hz=payload["monitor_hz"])
    result = runtime.run_cell(cell, prepared, ctx)
    spec, events, log = spec_paths(run_dir.logs_dir, cell)
    series = run_dir.cells_dir / f"{cell.cell_id}.monitor.csv"
    return {"result": result.model_dump(mode="json"), "node": node, "spec": _read_json(spec),
            "events": _read_text(events), "log": _read_text(log)[-LOG_LIMIT:],
            "monitor_series": _read_text(series) if result.monitor and series.is_file() else None}


# Environments this worker process has prepared (Ray reuses worker processes for later tasks of the run).
_PREPARED: dict[tuple[str, str, str], Prepared] = {}


def _prepare_once(runtime: Runtime, cache: Path, env_name: str, digest: str) -> Prepared:
    """Prepare an environment on this node once (checked or built under the environment's lock, shared with every
    other process using this cache: environments/locks.py), then remembered."""
    key = (str(cache), env_name, digest)
    if key not in _PREPARED:
        _PREPARED[key] = runtime.prepare(env_name)
    return _PREPARED[key]


def node_threads() -> int:
    """Threads per cell on this node: its cores shared among its slots (GPUs or `slot` units)."""
    ray = _ray()
    me = ray.get_runtime_context().get_node_id()
    resources = next((n["Resources"] for n in ray.nodes() if n.get("NodeID") == me), {})
    slots = int(resources.get("GPU", 0)) or int(resources.get(SLOT_RESOURCE, 0)) or 1
    return max(1, default_threads() // slots)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None
