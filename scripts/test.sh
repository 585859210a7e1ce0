#!/usr/bin/env bash
# Set everything up and run the test suite:  bash scripts/test.sh [pytest args]
# Uses ORCHESTRATE_DATA_DIR for the real datasets (default: ../shared/data beside the checkout).
set -euo pipefail
cd "$(dirname "$0")/.."
export ORCHESTRATE_DATA_DIR="${ORCHESTRATE_DATA_DIR:-$(cd .. && pwd)/shared/data}"
bash scripts/system-deps.sh
bash scripts/bootstrap.sh --test
set +e
.venv/bin/python -m pytest "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
  echo "test.sh: pytest collected no tests: that is a failure" >&2
  exit 1
fi
exit "$rc"
