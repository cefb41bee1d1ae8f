#!/usr/bin/env bash
# Installs the Debian 12 packages Keel needs to build and test, skipping those already installed.
# Safe to re-run. Run as root (or with sudo available).
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  qt6-base-dev qt6-charts-dev libqt6opengl6-dev qt6-httpserver-dev qt6-websockets-dev qt6-svg-dev
  libqt6sql6-sqlite libgit2-dev libeigen3-dev libxgboost-dev libyaml-cpp-dev libssl-dev libsqlite3-dev
  libboost-math-dev libarchive-dev fonts-dejavu-core curl
  # Test references: Python xgboost loads what Keel exports; SciPy checks the statistics.
  python3-xgboost python3-numpy python3-scipy
  # The screenshot test also runs on a real X server (font metrics differ from the offscreen platform's).
  xvfb xauth
  # keel serve's /metrics page is checked with promtool.
  prometheus
)
# Optional extras: KEEL_BENCH=1 adds the benchmark peers (pandas, xgboost, scikit-learn).
if [[ "${KEEL_BENCH:-0}" == 1 ]]; then
  packages+=(python3-pandas python3-sklearn bc wrk python3-fastapi python3-uvicorn python3-flask)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

sudo=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install -y -q "${missing[@]}"
