#!/usr/bin/env bash
# Gather, on a machine with internet, the wheels scripts/gpu-check-offline.sh needs on a GPU machine without:
# Keras and the orchestrator's requirements that a deep-learning image usually lacks (pydantic, ...), built for
# the GPU machine's Python and platform. Only what its interpreter lacks is ever installed (into overlays).
# Usage: bash scripts/gpu-wheels.sh DIR [PYTHON_VERSION] [SKIP...]
#   PYTHON_VERSION  the GPU machine's Python, MAJOR.MINOR (default 3.12)
#   SKIP            distributions not to fetch because the GPU machine's Python holds them
#                   (default: numpy ml_dtypes, which CUDA builds of JAX carry and which are never shadowed)
# The folder must fit the device tool's carry (64 MiB with the data): scripts/gpu-rehearsal.sh checks it.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:?usage: bash scripts/gpu-wheels.sh DIR [PYTHON_VERSION] [SKIP...]}
version=${2:-3.12}
shift $(( $# < 2 ? $# : 2 ))
skip=("$@")
[ ${#skip[@]} -gt 0 ] || skip=(numpy ml_dtypes)
python=".venv/bin/python"
[ -x "$python" ] || python=python3
keras=$("$python" -c 'import yaml; print(yaml.safe_load(open("matrix.yaml"))["environments"]["keras3-jax"]["keras"])')
mkdir -p "$dir"
platforms=()
for p in manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_17_x86_64 manylinux2014_x86_64 manylinux1_x86_64; do
  platforms+=(--platform "$p")
done
"$python" -m pip download --quiet --only-binary=:all: --python-version "$version" --implementation cp \
  "${platforms[@]}" --dest "$dir" "keras==$keras" "pydantic>=2.5" "typing_extensions>=4.14" "pyyaml>=6" \
  "nvidia-ml-py>=12" "psutil>=5.9" "rich>=13" "matplotlib>=3.7" "packaging>=22" "filelock>=3.12"
for name in "${skip[@]}"; do
  rm -f "$dir/$name"-*.whl
done
ls -l "$dir"
du -sh "$dir"
