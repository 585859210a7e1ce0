"""Errors a user can act on. The CLI prints their message without a traceback."""

from __future__ import annotations


class OrchestratorError(Exception):
    """Base for every error whose message tells the user what went wrong and what to do."""


class ConfigError(OrchestratorError):
    """The matrix file is malformed: the message names the file and the field."""


class InterpreterNotFound(OrchestratorError):
    """No Python interpreter of the version an environment asks for."""


class EnvironmentBuildError(OrchestratorError):
    """Building an environment failed; the message points at its build log."""


class DataError(OrchestratorError):
    """A dataset is missing or not what it claims to be."""


class ResultsError(OrchestratorError):
    """The results directory cannot be written or read."""


class StoreError(OrchestratorError):
    """The results store (SQLite file or PostgreSQL server) cannot be opened, read or written (exit 3)."""


class ContainerEngineError(OrchestratorError):
    """No Docker engine answers, or it cannot do what a run needs; the message says how to get one."""


class InfrastructureError(OrchestratorError):
    """The machinery failed, not the workload (a build's network error, a container that did not start).

    The scheduler retries these (the matrix's `retries`); a workload's own failure is never retried.
    """


class NetworkBuildError(EnvironmentBuildError, InfrastructureError):
    """An environment build failed on the network (a registry unreachable, a connection reset)."""


# What package installers (pip, uv, apt, docker) print when the network, not the package, failed.
_NETWORK_SIGNS = (
    "connection refused", "connection reset", "connection aborted", "connecttimeout", "connecterror",
    "read timed out", "timed out", "temporary failure in name resolution", "name or service not known",
    "network is unreachable", "no route to host", "failed to establish a new connection",
    "error sending request", "remote disconnected", "incompleteread", "tls handshake",
    "503 service unavailable", "502 bad gateway", "504 gateway",
)


def looks_like_network_error(text: str) -> bool:
    """Whether an installer's output says the network failed (worth a retry), not the requirements."""
    lowered = text.lower()
    return any(sign in lowered for sign in _NETWORK_SIGNS)
