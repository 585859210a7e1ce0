"""The host's side of the host/harness contract: workloads/protocol.py, loaded by path and re-exported.

The harness runs in each environment's own interpreter (Python 3.6 for the legacy Keras environments) and
imports protocol.py beside it; the orchestrator loads the very same file from workload_files.workloads_dir(), so the
spec keys, event kinds and thread variables are written once. Import the names from here, not the file.
"""

from __future__ import annotations

import importlib.util
import sys
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import Any

from orchestrator.core.workload_files import workloads_dir

MODULE_NAME = "orchestrator_workloads_protocol"


def protocol_path() -> Path:
    """workloads/protocol.py in a checkout, orchestrator/_workloads/protocol.py in a wheel."""
    return workloads_dir() / "protocol.py"


@lru_cache(maxsize=1)
def load() -> ModuleType:
    """workloads/protocol.py as a module (loaded once, under MODULE_NAME)."""
    path = protocol_path()
    spec = importlib.util.spec_from_file_location(MODULE_NAME, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load the host/harness protocol from {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[MODULE_NAME] = module
    spec.loader.exec_module(module)
    return module


_protocol = load()

Spec: Any = _protocol.Spec
DataSpec: Any = _protocol.DataSpec
Event: Any = _protocol.Event
API_NATIVE: str = _protocol.API_NATIVE
CAPABILITY_TRAIN: str = _protocol.CAPABILITY_TRAIN
DATA_SYNTHETIC: str = _protocol.DATA_SYNTHETIC
INFERENCE_PHASES: tuple[str, ...] = _protocol.INFERENCE_PHASES
EVENT_FIELD: str = _protocol.EVENT_FIELD
TIME_FIELD: str = _protocol.TIME_FIELD
THREAD_VARS: tuple[str, ...] = _protocol.THREAD_VARS
XLA_FLAGS: str = _protocol.XLA_FLAGS
XLA_ONE_THREAD_FLAGS: str = _protocol.XLA_ONE_THREAD_FLAGS
XLA_SINGLE_THREADED: str = _protocol.XLA_SINGLE_THREADED
THREAD_SETTING_VARS: tuple[str, ...] = _protocol.THREAD_SETTING_VARS
READ_BACK_VARS: tuple[str, ...] = _protocol.READ_BACK_VARS
SPEC_KEYS: tuple[str, ...] = _protocol.SPEC_KEYS
DATA_KEYS: tuple[str, ...] = _protocol.DATA_KEYS
EVENT_KINDS: tuple[str, ...] = _protocol.EVENT_KINDS
names = _protocol.names
read_back = _protocol.read_back

__all__ = ["API_NATIVE", "CAPABILITY_TRAIN", "DATA_KEYS", "DATA_SYNTHETIC", "DataSpec", "EVENT_FIELD", "EVENT_KINDS",
           "Event", "INFERENCE_PHASES", "READ_BACK_VARS", "SPEC_KEYS", "Spec", "THREAD_SETTING_VARS", "THREAD_VARS", "TIME_FIELD",
           "XLA_FLAGS", "XLA_ONE_THREAD_FLAGS", "XLA_SINGLE_THREADED", "load", "names", "protocol_path",
           "read_back"]
