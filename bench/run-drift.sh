#!/usr/bin/env bash
# Drift report: Keel's data::diffTables (and its statistics alone) vs the same statistics with SciPy and numpy
# (bench/drift_peer.py), on the same two generated tables of ROWS x 20 columns. Not part of the test run.
#   bash bench/run-drift.sh [ROWS]    # default 1000000 rows; results in bench/out/drift.md
# Builds nothing: needs build/bench/keel-bench-drift (BUILD=dir to use another build directory).
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-1000000}
build=${BUILD:-build}
[[ $build == /* ]] || build=$PWD/$build
bench=$build/bench/keel-bench-drift
py=/usr/bin/python3
out=$PWD/bench/out
work=$out/drift
rm -rf "$work"; mkdir -p "$work"
[[ -x $bench ]] || { echo "build first: cmake --build $build --target keel-bench-drift" >&2; exit 1; }
$py -c 'import numpy, scipy' 2>/dev/null || { echo "needs python3-numpy and python3-scipy" >&2; exit 1; }

results=$out/drift.md
load=$(cut -d' ' -f1-3 /proc/loadavg)
log() { echo "$*" | tee -a "$results"; }
: > "$results"
log "# Drift report, Keel vs SciPy — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(uname -m)"
log ""

# Keel first (it writes the tables for the peer), then the peer on the same numbers, one after the other.
keel_status=0
"$bench" "$rows" "$work" > "$work/keel.json" || keel_status=$?
[[ -s $work/keel.json ]] || { echo "keel-bench-drift failed (exit $keel_status)" >&2; exit 1; }
peer_status=0
$py bench/drift_peer.py "$work" "$work/keel.json" > "$work/peer.json" || peer_status=$?
[[ -s $work/peer.json ]] || { echo "drift_peer.py failed (exit $peer_status)" >&2; exit 1; }

field() { $py -c "import json,sys; v=json.load(open(sys.argv[1]))[sys.argv[2]]; print(f'{v:.3f}' if isinstance(v, float) else v)" "$1" "$2"; }
ratio() { $py -c "import json,sys; a=json.load(open(sys.argv[1]))[sys.argv[2]]; b=json.load(open(sys.argv[3]))[sys.argv[4]]; print(f'{a / b:.2f}x')" "$@"; }
keel=$work/keel.json
peer=$work/peer.json
log "$(field "$keel" rows) rows x $(field "$keel" columns) columns (15 numeric: PSI over reference deciles, KS D and" \
    "p-value, Wasserstein; 5 categorical: chi-square, Jensen-Shannon distance), reference and current table;" \
    "SciPy $(field "$peer" scipy), numpy $(field "$peer" numpy); load average before: $load."
log ""
log "| rows | Keel statistics alone (s) | SciPy/numpy (s) | SciPy / Keel | Keel diffTables, whole report (s) | SciPy / Keel diffTables |"
log "|---:|---:|---:|---:|---:|---:|"
log "| $(field "$keel" rows) | $(field "$keel" stats_seconds) | $(field "$peer" seconds) | $(ratio "$peer" seconds "$keel" stats_seconds)" \
    "| $(field "$keel" seconds) | $(ratio "$peer" seconds "$keel" seconds) |"
log ""
log "CPU seconds: Keel statistics alone $(field "$keel" stats_cpu_seconds) (one thread), Keel diffTables" \
    "$(field "$keel" cpu_seconds) (all threads: it also profiles both tables, in parallel, and compares them cell by" \
    "cell), SciPy $(field "$peer" cpu_seconds). Not timed: generating the tables ($(field "$keel" generate_seconds) s)," \
    "the peer reading the raw files ($(field "$peer" load_seconds) s)."
log "Agreement over $(field "$peer" compared) values: max relative difference" \
    "$($py -c "import json,sys; d=json.load(open(sys.argv[1])); print('%.2g (%s), tolerance %g' % (d['max_rel_diff'], d['worst'] or '-', d['rtol']))" "$peer")" \
    "(p-values also agree within 1e-12 absolute)."
log ""
$py - "$keel" "$peer" <<'PY' | tee -a "$results"
import json, sys
keel, peer = (json.load(open(p)) for p in sys.argv[1:3])
theirs = {c["name"]: c for c in peer["columns_detail"]}
def num(v):
    return "" if v is None else f"{v:.4g}"
print("| column | type | planted in current | PSI | KS D | KS p | Wasserstein | chi-square | chi-square p | JS distance"
      " | Keel s | SciPy s |")
print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for k in keel["columns_detail"]:
    p = theirs.get(k["name"], {})
    cells = [num(k.get(s)) for s in ("psi", "ks", "ks_p", "wasserstein", "chi2", "chi2_p", "js")]
    print(f"| {k['name']} | {k['type']} | {k['planted']} | " + " | ".join(cells)
          + f" | {k['seconds']:.3f} | {p.get('seconds', float('nan')):.3f} |")
PY
if [[ $keel_status -ne 0 || $peer_status -ne 0 ]]; then
  log ""
  log "DISAGREEMENT: keel-bench-drift exit $keel_status, drift_peer.py exit $peer_status"
  $py -c "import json,sys; [print(d) for d in json.load(open(sys.argv[1]))['disagreements']]" "$peer" | tee -a "$results"
  exit 1
fi
echo
echo "results: $results"
