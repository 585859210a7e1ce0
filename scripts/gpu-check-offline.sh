#!/usr/bin/env bash
# The GPU path on a machine with no internet and no Docker: a Python that already holds CUDA builds of
# PyTorch and JAX (a cloud deep-learning image, a cluster node), and a folder of wheels brought along.
#   1. nothing comes from the network: the orchestrator runs from this checkout, and whichever of its
#      requirements the interpreter lacks (pydantic, ...) go from the wheel folder into a private overlay;
#   2. keras3-torch and keras3-jax run as existing environments (build: none) on that interpreter (or the
#      ones given), Keras from the wheel folder into each environment's overlay if the interpreter lacks it;
#   3. `orchestrate run` on the gpu-check profile (MNIST MLP and CNN, 4 full epochs; under 8 minutes on one
#      recent GPU) with the NVML monitor at 10 Hz, then `orchestrate report`;
#   4. the figures (GPU model, s/epoch, utilization, memory, power, energy, cost) as a Markdown table for
#      docs/gpu-results.md, and checks: every cell ok, on the GPU, with joules per epoch (a warning where they
#      come from integrated power rather than NVML's energy counter).
# --dry-run: the same steps on CPU devices (no GPU assigned, even on a GPU machine), tiny profile: CI runs it.
#
# Nothing measured is lost on an overrun: with --out (default $OUT, the device tool's returned folder) the run
# directory, this script's log, the device check and the table are written there as the run goes; the run stops
# at the --deadline (seconds from the start, default 450: well before a 600 s command limit), its unfinished cells
# recorded as stopped, and the report and table are made from what finished.
#
# Usage: bash scripts/gpu-check-offline.sh [--wheels DIR] [--python PY] [--torch-python PY] [--jax-python PY]
#          [--data-dir DIR] [--out DIR] [--work DIR] [--deadline S] [--price-per-hour PRICE] [--dry-run]
#   --wheels DIR        wheels of the orchestrator's and Keras' requirements (scripts/gpu-wheels.sh makes it)
#   --python PY         the interpreter that runs the orchestrator (default: python3)
#   --torch-python PY   the interpreter of keras3-torch (default: --python); --jax-python likewise
#   --data-dir DIR      offline datasets, layout of shared/data (mnist/mnist.npz); default $ORCHESTRATE_DATA_DIR
#   --out DIR           what comes back: run directory, log, devices.json, gpu-results.md (default $OUT, else
#                       results/gpu-check); --results is the same option under its old name
#   --work DIR          the overlays and environment caches (not brought back; default a fresh temporary folder)
#   --deadline S        hard overall deadline in seconds (default 450)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
t0=$SECONDS
wheels="" python="python3" torch_py="" jax_py="" data_dir="${ORCHESTRATE_DATA_DIR:-}" results="${OUT:-}" work=""
price="" dry=0 deadline=450
while [ $# -gt 0 ]; do
  case "$1" in
    --wheels) wheels=$2; shift 2 ;;
    --python) python=$2; shift 2 ;;
    --torch-python) torch_py=$2; shift 2 ;;
    --jax-python) jax_py=$2; shift 2 ;;
    --data-dir) data_dir=$2; shift 2 ;;
    --out|--results) results=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --deadline) deadline=$2; shift 2 ;;
    --price-per-hour) price=$2; shift 2 ;;
    --dry-run) dry=1; shift ;;
    *) echo "gpu-check-offline: unknown argument $1 (see the usage at the top of $0)" >&2; exit 2 ;;
  esac
done
[[ "$deadline" =~ ^[0-9]+$ ]] || { echo "gpu-check-offline: --deadline must be whole seconds, got $deadline" >&2; exit 2; }
results=$(mkdir -p "${results:-results/gpu-check}" && cd "${results:-results/gpu-check}" && pwd)
if [ -n "$work" ]; then
  work=$(mkdir -p "$work" && cd "$work" && pwd)
else
  work=$(mktemp -d -t gpu-check.XXXXXX); trap 'rm -rf "$work"' EXIT  # overlays and caches: not brought back
fi
exec > >(tee -a "$results/gpu-check.log") 2>&1  # the log is in the returned folder line by line
step() { printf '\n== [%ss] %s\n' "$((SECONDS - t0))" "$*"; }
fail() { echo "gpu-check-offline: FAILED: $*" >&2; echo "FAILED: $*" >"$results/status.txt"; exit 1; }
left() { echo $((deadline - (SECONDS - t0))); }
within() {  # a step that must end before the deadline
  local s; s=$(left); [ "$s" -gt 5 ] || fail "the ${deadline}s deadline was reached before: $*"
  timeout "$s" "$@"
}
abspath() { (cd "$(dirname "$1")" && echo "$PWD/$(basename "$1")"); }  # keeps a venv's python link as it is
echo "running (deadline ${deadline}s)" >"$results/status.txt"

python=$(command -v "$python") || fail "interpreter $python not found"
torch_py=$(abspath "$(command -v "${torch_py:-$python}")")
jax_py=$(abspath "$(command -v "${jax_py:-$python}")")
[ -z "$wheels" ] || wheels=$(cd "$wheels" && pwd) || fail "wheel folder $wheels not found"
if [ "$dry" = 1 ]; then
  profile=gpu-dry; run_id=dry-run; want=cpu
  export CUDA_VISIBLE_DEVICES=""  # no GPU for anything below: the orchestrator plans CPU slots (orchestrator/execution/slots.py)
else
  profile=gpu-check; run_id=gpu; want=gpu
fi

step "machine"
if [ "$dry" = 0 ]; then
  command -v nvidia-smi >/dev/null || fail "nvidia-smi not found: no NVIDIA driver here (use --dry-run on a CPU)"
  nvidia-smi --query-gpu=index,pci.bus_id,uuid,name,compute_cap,driver_version,memory.total,power.limit --format=csv
fi
"$python" -c 'import platform, sys; print("orchestrator python", sys.version.split()[0], platform.machine())'

step "the frameworks see the ${want^^} (torch: $torch_py, jax: $jax_py)"
probe() {  # the harness's own device record (workloads/harness.py framework_device), without a model
  env -u PYTHONPATH XLA_PYTHON_CLIENT_PREALLOCATE=false timeout 120 "$1" -c '
import json, sys
sys.path.insert(0, sys.argv[1])
import harness
print(json.dumps(harness.framework_device(sys.argv[2])))' "$repo/workloads" "$2" 2>&1 | tail -n 1
}
torch_dev=$(probe "$torch_py" torch) jax_dev=$(probe "$jax_py" jax)
"$python" -c '
import json, sys
def parse(text):
    try:
        return json.loads(text)
    except ValueError:
        return {"kind": "unknown", "error": text}
print(json.dumps({"want": sys.argv[1], "torch": parse(sys.argv[2]), "jax": parse(sys.argv[3])}, indent=2))
' "$want" "$torch_dev" "$jax_dev" >"$results/devices.json"
echo "torch: $torch_dev"; echo "jax:   $jax_dev"
bad_dev=""
grep -q "\"kind\": \"$want\"" <<<"$torch_dev" || bad_dev+=" torch (torch.cuda.is_available() / device: $torch_dev)"
grep -q "\"kind\": \"$want\"" <<<"$jax_dev" || bad_dev+=" jax (jax.default_backend(): $jax_dev)"
[ -z "$bad_dev" ] || fail "not on the ${want^^}:$bad_dev (see $results/devices.json); nothing was run"

step "the orchestrator from this checkout; missing requirements from the wheel folder (no network)"
site="$work/orchestrator-site"
export PYTHONPATH="$repo:$site${PYTHONPATH:+:$PYTHONPATH}"  # the caller's entries after (the rehearsal's fake NVML)
if ! "$python" -c 'import packaging' 2>/dev/null && [ -n "$wheels" ]; then
  for whl in "$wheels"/packaging-*.whl; do  # the overlay's own need: a pure-Python wheel imports from its zip
    if [ -f "$whl" ]; then PYTHONPATH="$PYTHONPATH:$whl"; fi
  done
fi
if ! "$python" -c 'import pydantic, yaml, rich, psutil, pynvml, matplotlib, filelock' 2>/dev/null; then
  [ -n "$wheels" ] || fail "the orchestrator's requirements are missing from $python and no --wheels folder was given"
  within "$python" -m orchestrator.environments.overlay --python "$python" --wheels "$wheels" --target "$site" \
    "pydantic>=2.5" "typing_extensions>=4.14" "pyyaml>=6" "rich>=13" "psutil>=5.9" "nvidia-ml-py>=12" \
    "matplotlib>=3.7" "packaging>=22" "filelock>=3.12"
fi
within "$python" -m orchestrator.cli --help >/dev/null || fail "the orchestrator does not start on $python (see above)"

step "matrix: keras3-torch ($torch_py) and keras3-jax ($jax_py) as existing environments"
matrix="$results/matrix.yaml"
"$python" "$repo/scripts/gpu_matrix.py" "$repo/matrix.yaml" "$matrix" "$torch_py" "$jax_py"

budget=$(( $(left) - 60 ))  # a minute is kept for the report and the table
step "orchestrate run --profile $profile (NVML monitor at 10 Hz; stopped after ${budget}s)"
[ "$budget" -ge 30 ] || fail "only $(left)s left of the ${deadline}s deadline before the run: raise --deadline"
args=(run "$matrix" --runtime local --profile "$profile" --results-dir "$results" --run-id "$run_id"
      --monitor-hz 10 --cache-dir "$work/cache")
[ "$dry" = 0 ] || args+=(--workload mnist_mlp)
[ -z "$wheels" ] || args+=(--wheels "$wheels")
[ -z "$data_dir" ] || args+=(--data-dir "$data_dir")
[ -z "$price" ] || args+=(--price-per-hour "$price")
rm -rf "${results:?}/$run_id"
set +e
# SIGTERM at the deadline stops the running cells like a second Ctrl-C (recorded as stopped); finished cells stay.
timeout --signal=TERM --kill-after=20 "$budget" "$python" -m orchestrator.cli "${args[@]}"
rc=$?
set -e
[ "$rc" != 124 ] || echo "gpu-check-offline: the run reached its deadline (${budget}s): the report covers what finished"

step "report"
timeout "$(( $(left) > 20 ? $(left) : 20 ))" "$python" -m orchestrator.cli report "$results/$run_id" \
  || echo "gpu-check-offline: orchestrate report failed or ran out of time; the table follows"
mode=gpu; [ "$dry" = 0 ] || mode=cpu
set +e
"$python" "$repo/scripts/gpu_results.py" "$results/$run_id" "$mode" >"$results/gpu-results.md"
checked=$?
set -e
cat "$results/gpu-results.md"
[ "$rc" != 124 ] || fail "the run reached its deadline (${budget}s of ${deadline}s): the table has the cells that finished; \
the others are missing (raise --deadline and timeout_s together)"
[ "$rc" = 0 ] || fail "orchestrate run exited with $rc (see the table above and $results/$run_id/logs/)"
[ "$checked" = 0 ] || fail "the checks above failed (table in $results/gpu-results.md)"
echo "OK ($mode, $((SECONDS - t0))s)" >"$results/status.txt"
echo "gpu-check-offline: OK ($mode; results in $results/$run_id, table in $results/gpu-results.md, $((SECONDS - t0))s)"
