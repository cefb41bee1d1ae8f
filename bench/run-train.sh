#!/usr/bin/env bash
# Side-by-side training benchmarks (issue: training). Not part of the test run.
#   KEEL_BENCH=1 bash packaging/install-deps.sh   # adds python3-xgboost, python3-sklearn, pandas
#   bash bench/run-train.sh                        # results in bench/out/train-results.md
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD:-build}
keel=$PWD/$build/app/keel
tb=$PWD/$build/bench/keel-bench-train
py=/usr/bin/python3
out=$PWD/bench/out
mkdir -p "$out"
[[ -x $keel && -x $tb ]] || { echo "build first: cmake --build $build" >&2; exit 1; }
csv=$PWD/resources/examples/adult_train.csv
results=$out/train-results.md
: > "$results"
log() { echo "$*" | tee -a "$results"; }
now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc -l | xargs printf '%.3f'; }

log "# Keel training benchmarks — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores"
log ""
log "## Same design matrix, same parameters (fit time only)"
m=$(mktemp -d)
for part in logistic gbdt metrics; do
  log "keel $part: $(KEEL_BENCH_PART=$part "$tb" "$csv" "$m")"
done
p=$("$py" bench/train_peer.py matrices "$m")
log "python: $p"

log ""
log "## Whole job: keel train (process start to exit, incl. load, recipe, tracking, artifacts) vs Python script"
ws=$(mktemp -d)/ws
"$keel" init "$ws" > /dev/null
"$keel" -C "$ws" data add "$csv" --name adult_train > /dev/null
cat > "$ws/bench.yaml" <<'YAML'
experiment: bench
data: adult_train
target: class
task: binary
label_map: {">50K.": ">50K", "<=50K.": "<=50K"}
recipe: {exclude: [fnlwgt], defaults: {max_categories: 30}}
split: {kind: holdout, test_fraction: 0.2, stratify: true, seed: 42}
learner: gbdt
params: {n_estimators: 500, max_depth: 6, learning_rate: 0.05, early_stopping_rounds: 0, threads: 2}
YAML
"$keel" -C "$ws" train "$ws/bench.yaml" > /dev/null   # warm the dataset cache once, as a user's second run would be
best_keel=1e9; best_py=1e9; inner=0
for i in 1 2 3; do
  t0=$(now); "$keel" -C "$ws" train "$ws/bench.yaml" > /dev/null; t1=$(now); t=$(secs "$t0" "$t1")
  best_keel=$(awk -v a="$t" -v b="$best_keel" 'BEGIN { print (a < b ? a : b) }')
  t0=$(now); j=$("$py" bench/train_peer.py endtoend "$csv" "$m/model.json"); t1=$(now); t=$(secs "$t0" "$t1")
  best_py=$(awk -v a="$t" -v b="$best_py" 'BEGIN { print (a < b ? a : b) }')
  inner=$(echo "$j" | "$py" -c 'import json,sys; print(json.load(sys.stdin)["python_inner_seconds"])')
done
log "keel train (best of 3): ${best_keel} s"
log "python script (best of 3, wall incl. interpreter and imports): ${best_py} s (inside the interpreter: ${inner} s)"
log "ratio keel / python wall: $(awk -v a="$best_keel" -v b="$best_py" 'BEGIN { printf "%.2f", a / b }')"
log "load average during the run: $(cut -d' ' -f1-3 /proc/loadavg)"
rm -rf "$m"
