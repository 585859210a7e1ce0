"""A warm start: one process per environment imports the framework once, then forks a fresh child for each cell.

Python 3.6+; never imports the orchestrator (orchestrator/execution/warm.py starts and talks to it). The child runs
harness.main on the cell's spec exactly as a fresh process would, in its own session (the host stops it by its
process group), on the cores it is given, with its output in the cell's log; it dies with this process. Whether
children time like fresh processes is measured: benchmarks/warm_start.py, docs/measuring.md ("Warm start").

Protocol, one JSON object a line. This process answers {"ready": import seconds, "pid": its pid} once; then for
each request {"spec", "events", "log", "cpus"} on stdin it answers {"forked": child pid} and, when the child ended,
{"exited": child pid, "returncode": its exit code, or minus the signal that ended it}. {"quit": true} or the end of
stdin ends it.
"""

import ctypes
import json
import os
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

PR_SET_PDEATHSIG = 1
SIGKILL = 9


def say(channel, message):
    channel.write(json.dumps(message) + "\n")
    channel.flush()


def die_with_parent():
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, SIGKILL)
    except (OSError, AttributeError):  # not Linux: the host stops children by their process group instead
        pass


def child(request, channel, warm):
    """In the forked child: the cell, as harness.py's main runs it; never returns."""
    code = 1
    try:
        channel.close()  # the protocol is the parent's
        os.setsid()
        die_with_parent()
        if request.get("cpus"):
            os.sched_setaffinity(0, request["cpus"])
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(log, 1)
        os.dup2(log, 2)
        import harness
        harness.WARM_START = warm
        code = harness.main(["--spec", request["spec"], "--events", request["events"]])
    except BaseException:  # noqa: B902 - whatever happens, the child ends here and says why in its log
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code if isinstance(code, int) else 1)


def main():
    channel = os.fdopen(os.dup(1), "w")  # answers go here; stray prints go to stderr (the parent's log)
    os.dup2(2, 1)
    t0 = time.perf_counter()
    import numpy  # noqa: F401  (as harness.run imports it before Keras)
    import harness  # noqa: F401
    import compat  # noqa: F401  (the framework's import, paid once for every child)
    import_s = time.perf_counter() - t0
    say(channel, {"ready": import_s, "pid": os.getpid()})
    children = 0
    for line in sys.stdin:
        request = json.loads(line)
        if request.get("quit"):
            break
        warm = {"parent_pid": os.getpid(), "parent_import_s": import_s, "children_before": children,
                "hash_seed": os.environ.get("PYTHONHASHSEED")}
        pid = os.fork()
        if pid == 0:
            child(request, channel, warm)
        children += 1
        say(channel, {"forked": pid})
        _, status = os.waitpid(pid, 0)
        code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else -os.WTERMSIG(status)
        say(channel, {"exited": pid, "returncode": code})
    return 0


if __name__ == "__main__":
    sys.exit(main())
