"""The chaos soak (benchmarks/chaos.py) in its CI form: tens of short cells under mixed faults (a cell's harness
SIGKILLed, the orchestrator SIGKILLed and resumed twice, a cell hung past its timeout, the results tmpfs filled and
freed, the PostgreSQL store stopped mid-run and over the run's end), then every end-state check of the soak:
one final result per planned cell, all JSON valid, nothing empty or temporary left as data, each cell counted once
by the summary, the verdict's groups and the store, and `orchestrate store verify` at 0 differences.

The Ray phase (a worker SIGKILLed mid-cell) is left to the full soak: starting Ray doubles this test's time on a
two-core machine, and tests/test_ray_runtime.py kills a worker mid-cell on every run of the suite. Needs root
(tmpfs mount) and PostgreSQL's binaries (tests/postgres_server.py). About 2 minutes on a loaded 2-core machine.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent


def chaos() -> ModuleType:
    spec = importlib.util.spec_from_file_location("chaos", ROOT / "benchmarks" / "chaos.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["chaos"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def test_a_seed_replays_the_same_faults() -> None:
    module = chaos()
    import random

    budget = module.CI["faults"]
    first = module.schedule(random.Random(7), 16, budget)
    assert first == module.schedule(random.Random(7), 16, budget)
    assert first != module.schedule(random.Random(8), 16, budget)
    kinds = sorted(t.kind for t in first)
    assert kinds == sorted(k for k, n in budget.items() for _ in range(n))
    assert all(0 <= t.done < 16 for t in first)
    over_end = [t for t in first if t.store_down_over_end]
    assert len(over_end) == 1 and over_end[0].done >= int(16 * 0.85)


def test_config_sizes() -> None:
    module = chaos()
    full, _ = module.parse(["--seed", "3"])
    ci, _ = module.parse(["--ci", "--seed", "3"])
    assert full.seed == ci.seed == 3
    assert full.cells >= 200 and full.ray_cells > 0 and ci.cells <= 20 and ci.ray_cells == 0


@pytest.mark.integration
def test_ci_soak_loses_nothing_and_counts_nothing_twice(env_cache: Path, tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.fail("the chaos soak mounts a tmpfs: run the tests as root, as CI does")
    seed = int(os.environ.get("CHAOS_SEED", "11"))
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "chaos.py"), "--ci", "--seed", str(seed),
                           "--work", str(tmp_path), "--cache-dir", str(env_cache)],
                          capture_output=True, text=True, timeout=600)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert f"seed {seed} (replay: --seed {seed})" in out
    assert "problems: 0" in out
    assert "16 cells, final statuses" in out
    assert "'missing_in_store': 0, 'missing_in_folder': 0, 'duplicated': 0" in out
    for kind in ("cell_kill", "orchestrator_kill", "hang", "disk_full", "store_stop"):
        assert f"'local:{kind}'" in out, f"{kind} was never injected:\n{out}"
    assert "resumes: 0;" not in out, out
