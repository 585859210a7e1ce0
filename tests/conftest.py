"""Shared fixtures: the real datasets, the repository, and one environment cache for the whole session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The real datasets (layout of ../shared/data), through the project's data-directory option."""
    path = Path(os.environ.get("ORCHESTRATE_DATA_DIR", REPO.parent / "shared" / "data"))
    if not (path / "mnist" / "mnist.npz").is_file():
        pytest.fail(f"real datasets not found at {path}: set ORCHESTRATE_DATA_DIR to a copy of shared/data")
    return path


@pytest.fixture(scope="session")
def env_cache() -> Path:
    """Environments built by tests live here and are reused across tests (and runs) by content hash."""
    path = Path(os.environ.get("ORCHESTRATE_TEST_CACHE", REPO / ".orchestrate-test"))
    path.mkdir(parents=True, exist_ok=True)
    return path
