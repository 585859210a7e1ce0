#!/usr/bin/env bash
# Check the Docker runtime's GPU path on a GPU machine (CI has no GPU, so the tests cannot):
#   1. the driver answers (nvidia-smi) and NVML sees the GPUs from Python (orchestrate doctor);
#   2. the engine hands one GPU to a container through a device request (--gpus device=N, not privileged,
#      --network none) and NVML works inside it (nvidia-smi in the container);
#   3. the environment's GPU image is built (orchestrate build --runtime docker) and its framework sees the GPU;
#   4. a smoke cell runs on it with --runtime docker, and with --runtime auto (which must pick docker here).
# Usage: bash scripts/gpu-check.sh [ENV] [GPU]      (defaults: keras3-jax, GPU 0; needs internet for the builds)
set -euo pipefail
cd "$(dirname "$0")/.."
env_name="${1:-keras3-jax}"
gpu="${2:-0}"
data_dir="${ORCHESTRATE_DATA_DIR:-}"
orchestrate=".venv/bin/orchestrate"
step() { printf '\n== %s\n' "$*"; }
fail() { echo "gpu-check: FAILED: $*" >&2; exit 1; }

[ -x "$orchestrate" ] || bash scripts/bootstrap.sh
step "driver"
command -v nvidia-smi >/dev/null || fail "nvidia-smi not found: install the NVIDIA driver (README: Azure GPU VMs)"
nvidia-smi --query-gpu=index,name,compute_cap,driver_version,memory.total --format=csv

step "orchestrate doctor"
"$orchestrate" doctor | tee /tmp/gpu-check-doctor.txt
grep -q "NVIDIA container support: absent" /tmp/gpu-check-doctor.txt \
  && fail "the engine has no NVIDIA container support: install nvidia-container-toolkit, nvidia-ctk runtime configure"
grep -q "Docker images here: gpu variant" /tmp/gpu-check-doctor.txt || fail "doctor would not use GPU images here"

step "build the GPU image of $env_name"
build_out=$("$orchestrate" build "$env_name" --runtime docker | tee /dev/stderr)
image=$(grep -o "orchestrate/[a-z0-9._-]*:gpu-[0-9a-f]*" <<<"$build_out" | tail -n 1)
[ -n "$image" ] || fail "no gpu image tag in the build output"

step "device request for GPU $gpu only, NVML inside the container ($image)"
inside=$(docker run --rm --network none --read-only --gpus "device=$gpu" \
  "$image" nvidia-smi --query-gpu=index,name,uuid --format=csv,noheader)
echo "$inside"
[ "$(wc -l <<<"$inside")" -eq 1 ] || fail "the container sees more than the one GPU it asked for"
docker run --rm --network none --read-only --gpus "device=$gpu" "$image" python -c '
import ctypes
nvml = ctypes.CDLL("libnvidia-ml.so.1")
assert nvml.nvmlInit_v2() == 0, "nvmlInit failed inside the container"
count = ctypes.c_uint()
assert nvml.nvmlDeviceGetCount_v2(ctypes.byref(count)) == 0 and count.value == 1, count.value
print("NVML inside the container: 1 GPU")
'

step "the framework sees the GPU"
case "$env_name" in
  *jax*) probe='import jax; d = jax.devices(); print(d); assert d[0].platform == "gpu", d' ;;
  *torch*) probe='import torch; print(torch.cuda.get_device_name(0)); assert torch.cuda.is_available()' ;;
  *) probe='import tensorflow as tf; g = tf.config.list_physical_devices("GPU"); print(g); assert g' ;;
esac
docker run --rm --network none --read-only --tmpfs /tmp --gpus "device=$gpu" "$image" python -c "$probe"

step "smoke cell with --runtime docker, then --runtime auto"
results=$(mktemp -d)
data_args=(); [ -n "$data_dir" ] && data_args=(--data-dir "$data_dir")
for runtime in docker auto; do
  "$orchestrate" run --runtime "$runtime" --profile smoke --env "$env_name" --workload mnist_mlp \
    --results-dir "$results" --run-id "$runtime" "${data_args[@]}"
  .venv/bin/python - "$results/$runtime/cells/${env_name}__mnist_mlp__smoke__r0.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["status"] == "ok", (r["status"], r.get("reason"))
assert r["environment"]["runtime"] == "docker", r["environment"]["runtime"]
assert ":gpu-" in (r["environment"]["image"] or ""), r["environment"]["image"]
print(f"{sys.argv[1]}: ok on {r['environment']['image']}, epochs {r['timings']['epochs_s']}")
EOF
done
echo "gpu-check: OK (results in $results)"
