"""Interpreter discovery against the real interpreters on this machine."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from orchestrator.core.errors import InterpreterNotFound
from orchestrator.environments.interpreters import find_interpreter, interpreter_version

HOST = f"{sys.version_info[0]}.{sys.version_info[1]}"


def test_finds_the_running_version() -> None:
    path = find_interpreter(HOST)
    assert interpreter_version(path) == HOST


def test_explicit_path_must_match(tmp_path: Path) -> None:
    assert find_interpreter(HOST, sys.executable) == Path(sys.executable)
    with pytest.raises(InterpreterNotFound) as err:
        find_interpreter("2.5", sys.executable)
    assert "needs Python 2.5" in str(err.value)


def test_missing_version_says_how_to_install() -> None:
    with pytest.raises(InterpreterNotFound) as err:
        find_interpreter("3.99")
    message = str(err.value)
    assert "Python 3.99" in message and "uv python install 3.99" in message and "interpreter:" in message
