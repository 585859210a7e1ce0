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


class ContainerEngineError(OrchestratorError):
    """No Docker engine answers, or it cannot do what a run needs; the message says how to get one."""
