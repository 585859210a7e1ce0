"""`orchestrate ARGS...` that SIGKILLs itself halfway through writing its Nth cell result (KILL_AT_RESULT_WRITE).

The kill is a real SIGKILL at the worst moment of an atomic write: half the JSON is in the temporary file, which
is not yet renamed. Used by tests/test_faults.py.
"""

import json
import os
import signal
import sys

from orchestrator.cli import main

_dump = json.dump
_count = 0


def dump_then_die(payload, fh, **kwargs):  # noqa: ANN001, ANN003, ANN201
    global _count
    if isinstance(payload, dict) and "cell_id" in payload and "status" in payload:
        _count += 1
        if _count == int(os.environ["KILL_AT_RESULT_WRITE"]):
            text = json.dumps(payload, **kwargs)
            fh.write(text[: len(text) // 2])
            fh.flush()
            os.fsync(fh.fileno())
            os.kill(os.getpid(), signal.SIGKILL)
    _dump(payload, fh, **kwargs)


json.dump = dump_then_die
sys.exit(main(sys.argv[1:]))
