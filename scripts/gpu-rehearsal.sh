#!/usr/bin/env bash
# Rehearse scripts/gpu-check-offline.sh on any CPU machine, under a lent GPU machine's constraints (CI runs it:
# tests/test_gpu_rehearsal.py), so that the first GPU run works the first time:
#   - a stand-in for the GPU machine's Python: a virtualenv with torch (CPU build), JAX, numpy, psutil, rich,
#     nvidia-ml-py and an old typing_extensions (4.12: pydantic-core needs >= 4.14), but no keras, no pydantic;
#   - the wheel folder from scripts/gpu-wheels.sh, its size with the MNIST data checked against the device
#     tool's 64 MiB carry;
#   - the network cut (`unshare -n` where permitted, else PIP_NO_INDEX/UV_OFFLINE and an unreachable index and
#     proxy); docker, git, uv and chromium replaced by stubs that record any use;
#   - the fake NVML (tests/fake_nvml.py: two GPUs) and a fake nvidia-smi, as on a GPU machine:
#       1. the dry run (--dry-run) must pass and stay on the CPU although NVML shows GPUs;
#       2. the GPU mode must stop within seconds at the early device check (the frameworks here are CPU
#          builds), with its log, devices.json and status in the returned folder;
#       3. a dry run killed with SIGKILL once started (the device tool's timeout_s) leaves its log, status and
#          device check in the returned folder.
# Usage: bash scripts/gpu-rehearsal.sh [--work DIR] [--checkout DIR] [--typing-extensions VERSION]
#   --work DIR        where the stand-in, wheels and outputs go (default: a fresh temporary folder)
#   --checkout DIR    the checkout whose gpu-check-offline.sh is rehearsed (default: this one; e.g. an older
#                     commit unpacked with `git archive`)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
work="" checkout=$repo te_version=4.12.2
while [ $# -gt 0 ]; do
  case "$1" in
    --work) work=$2; shift 2 ;;
    --checkout) checkout=$(cd "$2" && pwd); shift 2 ;;
    --typing-extensions) te_version=$2; shift 2 ;;
    *) echo "gpu-rehearsal: unknown argument $1 (see the usage at the top of $0)" >&2; exit 2 ;;
  esac
done
t0=$SECONDS
step() { printf '\n== rehearsal [%ss] %s\n' "$((SECONDS - t0))" "$*"; }
fail() { echo "gpu-rehearsal: FAILED: $*" >&2; exit 1; }
host_python=$repo/.venv/bin/python
uv=$repo/.venv/bin/uv
[ -x "$host_python" ] && [ -x "$uv" ] || fail "no .venv with uv here: run bash scripts/bootstrap.sh first"
work=$(if [ -n "$work" ]; then mkdir -p "$work" && cd "$work" && pwd; else mktemp -d -t gpu-rehearsal.XXXXXX; fi)
data_dir=${ORCHESTRATE_DATA_DIR:-$repo/../shared/data}
[ -f "$data_dir/mnist/mnist.npz" ] || fail "MNIST not found at $data_dir/mnist/mnist.npz: set ORCHESTRATE_DATA_DIR"
pins() { grep -E "^$1==" "$repo/requirements/$2" | head -n 1; }

step "stand-in interpreter: torch, jax, typing_extensions $te_version; no keras, no pydantic"
stand_in=$work/stand-in
if [ ! -f "$stand_in/ready-$te_version" ]; then
  rm -rf "$stand_in"
  "$uv" venv -q --seed --python "$host_python" "$stand_in"
  find_links=(); [ -d /opt/wheels ] && find_links=(--find-links /opt/wheels)  # the CPU torch wheel (matrix notes)
  "$uv" pip install -q --python "$stand_in/bin/python" "${find_links[@]}" "$(pins torch keras3-torch.txt)" \
    "$(pins jax keras3-jax.txt)" "$(pins jaxlib keras3-jax.txt)" "numpy<2.5" "typing_extensions==$te_version" \
    psutil rich nvidia-ml-py
  touch "$stand_in/ready-$te_version"
fi
py=$stand_in/bin/python
"$py" -c 'import keras' 2>/dev/null && fail "the stand-in holds keras"
"$py" -c 'import pydantic' 2>/dev/null && fail "the stand-in holds pydantic"
"$py" -c 'from importlib.metadata import version as v; print("stand-in: torch", v("torch"), "jax", v("jax"),
  "typing_extensions", v("typing_extensions"))'

step "wheel folder (scripts/gpu-wheels.sh, for the stand-in's Python), checked against the 64 MiB carry"
wheels=$work/wheels
version=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
[ -n "$(ls "$wheels"/keras-*.whl 2>/dev/null)" ] || bash "$repo/scripts/gpu-wheels.sh" "$wheels" "$version" >/dev/null
mkdir -p "$work/data/mnist" && cp "$data_dir/mnist/mnist.npz" "$work/data/mnist/"
wheel_bytes=$(du -sb "$wheels" | cut -f1) data_bytes=$(du -sb "$work/data" | cut -f1)
echo "wheels: $((wheel_bytes / 1048576)) MiB, data: $((data_bytes / 1048576)) MiB (carry limit 64 MiB)"
[ $((wheel_bytes + data_bytes)) -le $((64 * 1048576)) ] || fail "wheels + data exceed the device tool's 64 MiB carry"

step "the GPU machine's constraints: no network, stubs for docker/git/uv/chromium, fake NVML and nvidia-smi"
stubs=$work/stubs used=$work/stubs-used.txt fake=$work/fake-nvml
mkdir -p "$stubs" "$fake"; : >"$used"
for tool in docker git uv chromium chromium-browser; do
  printf '#!/bin/sh\necho "%s $*" >>"%s"\nexit 127\n' "$tool" "$used" >"$stubs/$tool"
done
cat >"$stubs/nvidia-smi" <<'EOF'
#!/bin/sh
echo "index, pci.bus_id, uuid, name, compute_cap, driver_version, memory.total [MiB], power.limit [W]"
echo "0, 00000000:17:00.0, GPU-fake-0, Tesla K80, 3.7, 550.54.15, 12288 MiB, 150.00 W"
echo "1, 00000000:65:00.0, GPU-fake-1, NVIDIA H100, 9.0, 550.54.15, 12288 MiB, 700.00 W"
EOF
chmod +x "$stubs"/*
cat >"$fake/pynvml.py" <<EOF
"""The fake NVML of the tests (two GPUs, no process on them), standing in for nvidia-ml-py here."""
import sys
sys.path.insert(0, "$repo/tests")
from fake_nvml import fake_pynvml
globals().update({k: v for k, v in vars(fake_pynvml({}, [])).items() if not k.startswith("__")})
EOF
offline=(env PATH="$stubs:$PATH" PYTHONPATH="$fake" PIP_NO_INDEX=1 UV_OFFLINE=1
         PIP_INDEX_URL=http://127.0.0.1:9/simple UV_INDEX_URL=http://127.0.0.1:9/simple
         http_proxy=http://127.0.0.1:9 https_proxy=http://127.0.0.1:9 HTTP_PROXY=http://127.0.0.1:9
         HTTPS_PROXY=http://127.0.0.1:9 ORCHESTRATE_DATA_DIR= OUT=)
if unshare -n true 2>/dev/null; then
  offline=(unshare -n "${offline[@]}"); echo "network: cut (unshare -n)"
else
  echo "network: unshare -n not permitted here; PIP_NO_INDEX, UV_OFFLINE, an unreachable index and proxy instead"
fi
check=("${offline[@]}" bash "$checkout/scripts/gpu-check-offline.sh" --python "$py" --wheels "$wheels"
       --data-dir "$work/data")

step "1. dry run on a machine whose NVML shows GPUs (must pass, on the CPU)"
rm -rf "$work/dry"
"${check[@]}" --dry-run --results "$work/dry" || fail "the dry run failed (log: $work/dry/gpu-check.log)"
grep -q "| ok | cpu" "$work/dry/gpu-results.md" 2>/dev/null || grep -q "| ok | cpu" "$work/dry/dry-run/gpu-results.md" \
  || fail "the dry run's table does not show its cells ok on the CPU"

step "2. GPU mode with CPU builds of the frameworks (must stop at the early device check, within seconds)"
rm -rf "$work/gpu"
started=$SECONDS
set +e
"${check[@]}" --results "$work/gpu"
rc=$?
set -e
took=$((SECONDS - started))
[ "$rc" != 0 ] || fail "the GPU mode passed on a CPU machine"
grep -q "not on the GPU: torch" "$work/gpu/gpu-check.log" || fail "the GPU mode did not stop at the device check"
[ -f "$work/gpu/devices.json" ] && grep -q FAILED "$work/gpu/status.txt" || fail "no devices.json/status.txt in --out"
[ "$took" -le 90 ] || fail "the early device check took ${took}s (should be seconds)"
echo "GPU mode stopped after ${took}s: $(cat "$work/gpu/status.txt")"

step "3. an overrun: the dry run killed (SIGKILL, as the device tool does at timeout_s) once it has started"
rm -rf "$work/killed" "$work/killed-work"
setsid "${check[@]}" --dry-run --results "$work/killed" --work "$work/killed-work" >"$work/killed.out" 2>&1 &
pid=$!
for _ in $(seq 600); do [ -f "$work/killed/devices.json" ] && break; sleep 0.2; done
kill -KILL -- -"$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
[ -f "$work/killed/devices.json" ] || fail "nothing in --out after the device check: $(tail -5 "$work/killed.out")"
grep -q "frameworks see the CPU" "$work/killed/gpu-check.log" && grep -q "^running" "$work/killed/status.txt" \
  || fail "the killed run's log and status are not in --out"
echo "killed after the device check: log, devices.json and status ($(cat "$work/killed/status.txt")) are in --out"

[ ! -s "$used" ] || fail "the check used tools a GPU machine lacks: $(cat "$used")"
echo "gpu-rehearsal: OK ($((SECONDS - t0))s; work folder $work)"
