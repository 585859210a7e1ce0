"""A run's folder on disk: where its cells' results, logs, summary, report and identity (`run.json`) go."""

from __future__ import annotations

from pathlib import Path

from orchestrator.core.errors import ResultsError
from orchestrator.core.files import write_json_atomic
from orchestrator.core.paths import inside, safe_name
from orchestrator.results.schema import CellResult
from orchestrator.rundir.instance import INSTANCE_FILE, start_instance


class RunDir:
    """The layout of one run: `<results-dir>/<run-id>/cells/<cell-id>.json` and `summary.json`."""

    def __init__(self, results_dir: Path, run_id: str) -> None:
        self.path = (Path(results_dir) / safe_name(run_id, "run id")).resolve()
        self.run_id = run_id

    @property
    def cells_dir(self) -> Path:
        return self.path / "cells"

    @property
    def logs_dir(self) -> Path:
        return self.path / "logs"

    @property
    def summary_path(self) -> Path:
        return self.path / "summary.json"

    def cell_path(self, cell_id: str) -> Path:
        return inside(self.cells_dir, self.cells_dir / f"{cell_id}.json", f"cell id {cell_id!r}")

    def ensure_writable(self) -> None:
        try:
            self.cells_dir.mkdir(parents=True, exist_ok=True)
            self.logs_dir.mkdir(parents=True, exist_ok=True)
            probe = self.path / ".write-probe"
            probe.write_text("ok")
            probe.unlink()
        except OSError as exc:
            raise ResultsError(
                f"results directory {self.path} is not writable ({exc.strerror}); "
                "choose another with --results-dir"
            ) from None

    def remove_if_empty(self) -> None:
        """Remove the run's folder (and its cells/ and logs/) if nothing was written in it: a run stopped before it
        began leaves no empty folder behind. Only empty folders are removed."""
        for folder in (self.cells_dir, self.logs_dir, self.path):
            try:
                folder.rmdir()
            except OSError:  # not empty, or not there
                pass

    def remove_temp_files(self) -> list[Path]:
        """Delete the temporary files of atomic writes cut short by a killed process (never a complete file)."""
        stale = [p for p in self.path.rglob(".*.tmp") if p.is_file()]
        for path in stale:
            path.unlink(missing_ok=True)
        return stale

    def start_instance(self) -> str | None:
        """The run's instance id (rundir/instance.py): written when a new run's folder has none yet."""
        return start_instance(self.path)

    def write_cell(self, result: CellResult) -> Path:
        path = self.cell_path(result.cell_id)
        if not (self.path / INSTANCE_FILE).is_file():  # on demand: the first result of a run gives it its identity
            self.start_instance()
        write_json_atomic(path, result.model_dump(mode="json"))
        return path
