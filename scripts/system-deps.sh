#!/usr/bin/env bash
# System packages the project needs on a Debian/Ubuntu host, installed only when missing.
# Each line: a package and why. Run as root (or with sudo available).
set -euo pipefail
packages=(
  chromium   # headless browser: tests/test_report.py renders the HTML report and checks what a reader sees
  libopenmpi3   # CNTK 2.7 links OpenMPI (1.10 sonames, linked to this one in the cntk environment's lib/)
  g++           # Theano compiles its C ops with g++ at run time
  docker.io      # the Docker runtime's tests start their own dockerd (own data root, socket, pid file)
  debootstrap    # ... and make its base image locally (Docker Hub is out of reach on CI machines)
)
# PostgreSQL server binaries (initdb, pg_ctl): tests/test_store.py starts its own server. Any version on PATH or
# under /usr/lib/postgresql/*/bin will do; Debian's `postgresql` package otherwise.
if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
  packages+=(postgresql)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  # Wait for the dpkg lock rather than fail when another apt runs on a shared machine.
  $sudo_cmd apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
    --no-install-recommends "${missing[@]}"
fi
echo "system-deps: ok (${#packages[@]} packages checked, ${#missing[@]} installed)"
