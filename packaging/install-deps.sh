#!/usr/bin/env bash
# Installs the Debian 12 packages Keel needs to build and test, skipping those already installed.
# Safe to re-run. Run as root (or with sudo available).
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  qt6-base-dev qt6-charts-dev libqt6opengl6-dev qt6-httpserver-dev qt6-websockets-dev qt6-svg-dev
  libqt6sql6-sqlite libpq-dev libgit2-dev libeigen3-dev libxgboost-dev libyaml-cpp-dev libssl-dev libsqlite3-dev
  libboost-math-dev libboost-dev libarchive-dev fonts-dejavu-core curl
  # Teams and clusters: a shared PostgreSQL tracking store (Qt's QPSQL driver), S3 remotes (libcurl signs requests),
  # Slurm for sweeps and pipeline stages. The live tests start their own postgres, s3rver and slurm daemons, and
  # python3 runs the small S3 endpoint that honours conditional writes (tests/support/conditional_s3.py).
  libqt6sql6-psql libcurl4-openssl-dev postgresql slurm-wlm munge python3
  # The .deb: built by cpack (dpkg-shlibdeps from dpkg-dev), checked by lintian, desktop-file-validate, appstreamcli.
  dpkg-dev lintian desktop-file-utils appstream
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

sudo=()
if [[ $(id -u) -ne 0 ]] && command -v sudo >/dev/null; then
  sudo=(sudo)
fi
if [[ ${#missing[@]} -gt 0 && $(id -u) -ne 0 && ${#sudo[@]} -eq 0 ]]; then
  echo "install-deps: need root or sudo to install: ${missing[*]}" >&2
  exit 1
fi
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#packages[@]} packages present"
else
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -q
  "${sudo[@]}" apt-get install -y -q "${missing[@]}"
fi

# The S3 tests run against s3rver, a pure-JavaScript S3 server from npm, installed for this user only.
s3rver_dir="${HOME}/.cache/keel/s3rver"
if [[ ! -f "$s3rver_dir/node_modules/s3rver/bin/s3rver.js" ]]; then
  if ! command -v npm >/dev/null; then
    echo "install-deps: installing npm (for s3rver)"
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get install -y -q npm || "${sudo[@]}" bash -c "apt-get update -q && apt-get install -y -q npm"
  fi
  echo "install-deps: installing s3rver@3.7.1 into $s3rver_dir"
  mkdir -p "$s3rver_dir"
  npm install --prefix "$s3rver_dir" --no-audit --no-fund --loglevel=error s3rver@3.7.1 ||
    echo "install-deps: warning: s3rver could not be installed; the S3 tests will be skipped, saying so" >&2
fi
