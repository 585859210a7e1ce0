"""The run directory: its layout (layout.py), its identity (instance.py), one owner at a time (owner.py), no finished
result overwritten silently (reuse.py), faults while writing turned into a clean stop (faults.py) and told plainly (fault_notice.py)."""

from orchestrator.rundir.faults import EXIT_FAULT, FolderWatch, RunFault, as_write_fault, drop_empty_files
from orchestrator.rundir.owner import OwnerRecord, RunInUse, RunOwnership
from orchestrator.rundir.reuse import RunIdInUse, prepare_reuse

__all__ = ["EXIT_FAULT", "FolderWatch", "OwnerRecord", "RunFault", "RunIdInUse", "RunInUse", "RunOwnership", "as_write_fault",
           "drop_empty_files", "prepare_reuse"]
