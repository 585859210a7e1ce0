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
# --dry-run: the same steps on CPU devices (no GPU assigned), tiny profile: CI runs it.
#
# Usage: bash scripts/gpu-check-offline.sh [--wheels DIR] [--python PY] [--torch-python PY] [--jax-python PY]
#          [--data-dir DIR] [--results DIR] [--price-per-hour PRICE] [--dry-run]
#   --wheels DIR        wheels of the orchestrator's and Keras' requirements (scripts/gpu-wheels.sh makes it)
#   --python PY         the interpreter that runs the orchestrator (default: python3)
#   --torch-python PY   the interpreter of keras3-torch (default: --python); --jax-python likewise
#   --data-dir DIR      offline datasets, layout of shared/data (mnist/mnist.npz); default $ORCHESTRATE_DATA_DIR
#   --results DIR       where the run goes (default: results/gpu-check)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
wheels="" python="python3" torch_py="" jax_py="" data_dir="${ORCHESTRATE_DATA_DIR:-}" results="" price="" dry=0
while [ $# -gt 0 ]; do
  case "$1" in
    --wheels) wheels=$2; shift 2 ;;
    --python) python=$2; shift 2 ;;
    --torch-python) torch_py=$2; shift 2 ;;
    --jax-python) jax_py=$2; shift 2 ;;
    --data-dir) data_dir=$2; shift 2 ;;
    --results) results=$2; shift 2 ;;
    --price-per-hour) price=$2; shift 2 ;;
    --dry-run) dry=1; shift ;;
    *) echo "gpu-check-offline: unknown argument $1 (see the usage at the top of $0)" >&2; exit 2 ;;
  esac
done
step() { printf '\n== %s\n' "$*"; }
fail() { echo "gpu-check-offline: FAILED: $*" >&2; exit 1; }
abspath() { (cd "$(dirname "$1")" && echo "$PWD/$(basename "$1")"); }  # keeps a venv's python link as it is

python=$(command -v "$python") || fail "interpreter $python not found"
torch_py=$(abspath "$(command -v "${torch_py:-$python}")")
jax_py=$(abspath "$(command -v "${jax_py:-$python}")")
results=$(mkdir -p "${results:-results/gpu-check}" && cd "${results:-results/gpu-check}" && pwd)
[ -z "$wheels" ] || wheels=$(cd "$wheels" && pwd) || fail "wheel folder $wheels not found"
if [ "$dry" = 1 ]; then profile=gpu-dry; run_id=dry-run; else profile=gpu-check; run_id=gpu; fi

step "machine"
if [ "$dry" = 0 ]; then
  command -v nvidia-smi >/dev/null || fail "nvidia-smi not found: no NVIDIA driver here (use --dry-run on a CPU)"
  nvidia-smi --query-gpu=index,name,compute_cap,driver_version,memory.total,power.limit --format=csv
fi
"$python" -c 'import platform, sys; print("orchestrator python", sys.version.split()[0], platform.machine())'

step "the orchestrator from this checkout; missing requirements from the wheel folder (no network)"
site="$results/orchestrator-site"
export PYTHONPATH="$repo:$site"
if ! "$python" -c 'import pydantic, yaml, rich, psutil, pynvml, matplotlib' 2>/dev/null; then
  [ -n "$wheels" ] || fail "the orchestrator's requirements are missing from $python and no --wheels folder was given"
  "$python" -m orchestrator.overlay --python "$python" --wheels "$wheels" --target "$site" \
    "pydantic>=2.5" "pyyaml>=6" "rich>=13" "psutil>=5.9" "nvidia-ml-py>=12" "matplotlib>=3.7"
fi
"$python" -m orchestrator.cli --help >/dev/null

step "matrix: keras3-torch ($torch_py) and keras3-jax ($jax_py) as existing environments"
matrix="$results/matrix.yaml"
"$python" - "$repo/matrix.yaml" "$matrix" "$torch_py" "$jax_py" <<'EOF'
import sys
import yaml
source, target, torch_py, jax_py = sys.argv[1:]
raw = yaml.safe_load(open(source))
keras = raw["environments"]["keras3-jax"]["keras"]
raw["environments"] = {
    "keras3-torch": {"backend": "torch", "keras": keras, "python": torch_py, "build": "none",
                     "env": dict(raw["environments"]["keras3-torch"].get("env") or {}),  # the matrix's settings
                     "notes": "existing interpreter (build: none): its own CUDA build of PyTorch"},
    "keras3-jax": {"backend": "jax", "keras": keras, "python": jax_py, "build": "none",
                   "notes": "existing interpreter (build: none): its own CUDA build of JAX"},
}
raw["default"] = {"profile": "gpu-check", "environments": ["keras3-torch", "keras3-jax"],
                  "workloads": ["mnist_mlp", "mnist_cnn"]}
# Issue 19, the cost of Keras on the GPU: the same frameworks written natively, on the same interpreters
# (native-jax where the JAX interpreter has flax and optax); the report's "cost of Keras" section pairs them.
import subprocess
for name, py, check in (("native-torch", torch_py, "torch"), ("native-jax", jax_py, "flax.nnx, optax")):
    if subprocess.run([py, "-c", "import " + check], capture_output=True).returncode == 0:
        raw["environments"][name] = {"backend": name[7:], "api": "native", "python": py, "build": "none"}
        raw["default"]["environments"].append(name)
raw["profiles"] = {
    "gpu-check": {"description": "the GPU check: full MNIST, 4 epochs (3 steady)", "epochs": 4, "timeout_s": 300},
    "gpu-dry": {"description": "the GPU check's dry run on CPU devices", "epochs": 2, "train_samples": 512,
                "test_samples": 256, "timeout_s": 600},
}
raw.pop("workloads_dir", None)
raw["reference"] = "keras3-jax"  # the article's tensorflow1 is not in this matrix
yaml.safe_dump(raw, open(target, "w"), sort_keys=False)
EOF

step "orchestrate run --profile $profile (NVML monitor at 10 Hz)"
args=(run "$matrix" --runtime local --profile "$profile" --results-dir "$results" --run-id "$run_id"
      --monitor-hz 10 --cache-dir "$results/cache")
[ "$dry" = 0 ] || args+=(--workload mnist_mlp)
[ -z "$wheels" ] || args+=(--wheels "$wheels")
[ -z "$data_dir" ] || args+=(--data-dir "$data_dir")
[ -z "$price" ] || args+=(--price-per-hour "$price")
rm -rf "${results:?}/$run_id"
set +e
if [ "$dry" = 1 ]; then
  CUDA_VISIBLE_DEVICES="" "$python" -m orchestrator.cli "${args[@]}"
else
  "$python" -m orchestrator.cli "${args[@]}"
fi
rc=$?
set -e

step "report"
"$python" -m orchestrator.cli report "$results/$run_id" || fail "orchestrate report failed"
mode=gpu; [ "$dry" = 0 ] || mode=cpu
"$python" "$repo/scripts/gpu_results.py" "$results/$run_id" "$mode" | tee "$results/$run_id/gpu-results.md"
[ "$rc" = 0 ] || fail "orchestrate run exited with $rc (see the table above and $results/$run_id/logs/)"
echo "gpu-check-offline: OK ($mode; results in $results/$run_id, table in $results/$run_id/gpu-results.md)"
