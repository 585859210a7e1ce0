#!/usr/bin/env bash
# Set everything up and run the test suite:
#   bash scripts/test.sh [pytest args]           the whole suite (CI's command)
#   bash scripts/test.sh --quick [pytest args]   unit tests plus one real keras3 cell: a few minutes, before a small change
# Uses ORCHESTRATE_DATA_DIR for the real datasets (default: ../shared/data beside the checkout).
set -euo pipefail
cd "$(dirname "$0")/.."
export ORCHESTRATE_DATA_DIR="${ORCHESTRATE_DATA_DIR:-$(cd .. && pwd)/shared/data}"
selection=()
if [ "${1:-}" = "--quick" ]; then
  shift
  selection=(-m "not integration or quick")
fi
bash scripts/system-deps.sh
bash scripts/bootstrap.sh --test
set +e
.venv/bin/python -m pytest "${selection[@]}" "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
  echo "test.sh: pytest collected no tests: that is a failure" >&2
  exit 1
fi
exit "$rc"
