#!/usr/bin/env bash
# `keel models compare` on 1,000,000 rows with 1,000 bootstrap resamples, against the same statistics in Python
# (numpy bootstrap, statsmodels McNemar, numpy DeLong, SciPy Wilcoxon: bench/compare_peer.py). Not part of the test run.
#   bash bench/run-compare.sh [ROWS] [RESAMPLES]     # default 1000000 rows, 1000 resamples; bench/out/compare-results.md
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-1000000}
resamples=${2:-1000}
build=${BUILD:-build}
[[ $build == /* ]] || build=$PWD/$build
keel=$build/app/keel
py=/usr/bin/python3
out=$PWD/bench/out
peer_script=$PWD/bench/compare_peer.py
work=$out/compare
rm -rf "$work"; mkdir -p "$work"
$py -c 'import numpy, scipy, statsmodels' 2>/dev/null || { echo "needs python3-numpy, python3-scipy, python3-statsmodels" >&2; exit 1; }

# Planted signal: the label follows `signal`; the second model never sees it.
$py - "$work" "$rows" <<'PY'
import sys, numpy as np
work, rows = sys.argv[1], int(sys.argv[2])
def write(path, n, seed):
    r = np.random.default_rng(seed)
    s, z, e = r.normal(size=n), r.normal(size=n), r.normal(size=n)
    colour = np.array(["red", "green", "blue"])[r.integers(0, 3, n)]
    label = np.where(1.5 * s + 0.7 * e > 0.3, "yes", "no")
    with open(path, "w") as f:
        f.write("signal,noise,colour,label\n")
        for i in range(n):
            f.write(f"{s[i]:.6f},{z[i]:.6f},{colour[i]},{label[i]}\n")
write(f"{work}/train.csv", 20000, 1)
write(f"{work}/big.csv", rows, 2)
PY
cd "$work"
$keel init ws >/dev/null
cd ws
$keel data add ../train.csv --name train >/dev/null
$keel data add ../big.csv --name big >/dev/null
for spec in "seeing:[]" "blind:[signal]"; do
  name=${spec%%:*}; excluded=${spec#*:}
  printf 'name: %s\ndata: train\ntarget: label\ntask: binary\nrecipe: {exclude: %s}\nlearner: logistic\n' "$name" "$excluded" > $name.yaml
  $keel train $name.yaml >/dev/null
done
ids=$($keel --json runs list | $py -c "import json,sys; r=json.load(sys.stdin); print(' '.join(x['id'] for x in sorted(r, key=lambda x: x['start'])))")
set -- $ids
$keel models register "$1" --name bench >/dev/null
$keel models register "$2" --name bench >/dev/null
start=$(date +%s.%N)
$keel --json models compare bench@v2 bench@v1 --data big --bootstrap "$resamples" > compare.json
keel_s=$(echo "$(date +%s.%N) - $start" | bc)
$keel predict "$2" --data big -o a.csv
$keel predict "$1" --data big -o b.csv
peer=$($py "$peer_script" a.csv b.csv "$resamples")
cd - >/dev/null
results=$out/compare-results.md
{
  echo "# keel models compare — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $rows rows, $resamples resamples"
  echo
  echo "| | seconds |"
  echo "|---|---:|"
  echo "| keel models compare (load 2 bundles + data, score 2 models, bootstrap, 4 tests, importance, lineage) | $keel_s |"
  echo "| Python peer, statistics only (bootstrap, McNemar, DeLong, Wilcoxon, paired bootstrap) | $(echo "$peer" | $py -c 'import json,sys; print(round(json.load(sys.stdin)["stats_s"], 2))') |"
  echo "| Python peer, reading the two prediction files | $(echo "$peer" | $py -c 'import json,sys; print(round(json.load(sys.stdin)["load_s"], 2))') |"
  echo
  echo "keel: $($py -c "import json; c=json.load(open('$work/ws/compare.json')); print({t['test']: t['pvalue'] for t in c['tests']})")"
  echo "peer: $peer"
} | tee "$results"
