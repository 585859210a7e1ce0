#!/usr/bin/env bash
# Create the orchestrator's own virtualenv (.venv, Python 3.10+) and install the project into it.
#   scripts/bootstrap.sh          the orchestrator
#   scripts/bootstrap.sh --test   the orchestrator and its test dependencies
set -euo pipefail
cd "$(dirname "$0")/.."
extras=""
[ "${1:-}" = "--test" ] && extras="[test]"

find_python() {
  for candidate in "${ORCHESTRATE_HOST_PYTHON:-}" python3.13 python3.12 python3.11 python3.10 python3; do
    [ -n "$candidate" ] || continue
    path=$(command -v "$candidate" 2>/dev/null) || continue
    if "$path" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' 2>/dev/null; then
      echo "$path"; return 0
    fi
  done
  return 1
}

if [ ! -x .venv/bin/python ]; then
  py=$(find_python) || { echo "bootstrap: no Python >= 3.10 found; install one (e.g. 'uv python install 3.11') or set ORCHESTRATE_HOST_PYTHON" >&2; exit 1; }
  "$py" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".${extras}"
echo "bootstrap: ready: $(.venv/bin/orchestrate --help | head -n 1)"
