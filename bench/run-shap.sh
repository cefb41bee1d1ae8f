#!/usr/bin/env bash
# TreeSHAP: Keel's exact TreeSHAP vs XGBoost's pred_contribs (python3-xgboost), same model, rows and threads.
# Not part of the test run.
#   bash bench/run-shap.sh [ROWS] [THREADS]    # default 10000 rows, 2 threads; results in bench/out/shap-results.md
# The 500-tree depth-8 Adult model is fitted once and kept in bench/out/shap/model.json.
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-10000}
threads=${2:-2}
build=${BUILD:-build}
[[ $build == /* ]] || build=$PWD/$build
bench=$build/bench/keel-bench-shap
py=/usr/bin/python3
out=$PWD/bench/out
work=$out/shap
mkdir -p "$work"
[[ -x $bench ]] || { echo "build first: cmake --build $build --target keel-bench-shap" >&2; exit 1; }
$py -c 'import xgboost' 2>/dev/null || { echo "python3-xgboost is missing (apt install python3-xgboost)" >&2; exit 1; }

results=$out/shap-results.md
load=$(cut -d' ' -f1-3 /proc/loadavg)
log() { echo "$*" | tee -a "$results"; }
: > "$results"
log "# Keel TreeSHAP vs XGBoost pred_contribs — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(uname -m)"
log ""
keel_json=$("$bench" resources/examples/adult_train.csv "$work" --rows "$rows" --threads "$threads" \
    --trees 500 --depth 8 --repeat 3)
peer_json=$($py bench/shap_peer.py "$work" "$threads" 3)
field() { echo "$1" | $py -c "import json,sys; v=json.load(sys.stdin)['$2']; print(f'{v:.3f}' if isinstance(v, float) else v)"; }
keel_s=$(field "$keel_json" keel_best_s)
xgb_s=$(field "$peer_json" xgboost_best_s)
keel_cpu=$(field "$keel_json" keel_best_cpu_s)
xgb_cpu=$(field "$peer_json" xgboost_best_cpu_s)
ratio() { echo "$1 / $2" | bc -l | xargs printf '%.2fx'; }
log "Adult, GBDT $(field "$keel_json" trees) trees (max_depth 8, learning_rate 0.05), $(field "$keel_json" nodes) nodes;" \
    "$(field "$keel_json" rows) rows x $(field "$keel_json" cols) columns; $threads threads; best of 3 runs each;" \
    "load average before: $load."
log ""
log "| step | wall seconds | CPU seconds (all threads) |"
log "|---|---|---|"
log "| Keel: parse the XGBoost JSON model | $(field "$keel_json" parse_s) | |"
log "| Keel: exact TreeSHAP (path-dependent) | $keel_s | $keel_cpu |"
log "| XGBoost $(field "$peer_json" xgboost_version) (Python) Booster.predict(pred_contribs=True) | $xgb_s | $xgb_cpu |"
log "| XGBoost pred_contribs through Keel's C API link (one run, cross-check) | $(field "$keel_json" xgboost_capi_s) | $(field "$keel_json" xgboost_capi_cpu_s) |"
log ""
log "ratio XGBoost (Python) / Keel: wall $(ratio "$xgb_s" "$keel_s"), CPU $(ratio "$xgb_cpu" "$keel_cpu")"
log "max |Keel - XGBoost| over all values and base values: $(echo "$peer_json" | $py -c 'import json,sys; print("%.2g" % json.load(sys.stdin)["max_abs_diff"])')" \
    "(XGBoost computes in float); max additivity residual of Keel: $(echo "$keel_json" | $py -c 'import json,sys; print("%.2g" % json.load(sys.stdin)["max_residual"])')"
echo
echo "results: $results"
