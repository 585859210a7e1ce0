"""The run directory's lifecycle: one owner at a time (owner.py), no finished result overwritten silently
(reuse.py), and faults while writing turned into a clean stop (faults.py). The layout itself is
`orchestrator.results.RunDir`."""

from orchestrator.rundir.faults import EXIT_FAULT, FolderWatch, RunFault, as_write_fault, drop_empty_files
from orchestrator.rundir.owner import OwnerRecord, RunInUse, RunOwnership
from orchestrator.rundir.reuse import RunIdInUse, prepare_reuse

__all__ = ["EXIT_FAULT", "FolderWatch", "OwnerRecord", "RunFault", "RunIdInUse", "RunInUse", "RunOwnership", "as_write_fault",
           "drop_empty_files", "prepare_reuse"]
