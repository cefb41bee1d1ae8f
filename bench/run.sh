#!/usr/bin/env bash
# Side-by-side benchmarks for the data foundation. Not part of the test run.
#   KEEL_BENCH=1 bash packaging/install-deps.sh   # adds pandas
#   bash bench/run.sh [SIZE_MB]                    # default 1024 (1 GiB); results in bench/out/results.md
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-1024}
build=${BUILD:-build}
keel=$PWD/$build/app/keel
gen=$PWD/$build/bench/keel-bench-gencsv
py=/usr/bin/python3
out=$PWD/bench/out
mkdir -p "$out"
[[ -x $keel && -x $gen ]] || { echo "build first: cmake --build $build" >&2; exit 1; }

now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc -l | xargs printf '%.3f'; }
results=$out/results.md
: > "$results"
log() { echo "$*" | tee -a "$results"; }

log "# Keel data benchmarks — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(uname -m)"
log ""
base=$out/base.csv
for v in base append edit insert; do
  [[ -f $out/$v.csv ]] || "$gen" "$out/$v.csv" "$size" "$v"
done
bytes=$(stat -c %s "$base")
log "file: $(numfmt --to=iec-i --suffix=B "$bytes") CSV, 20 mixed columns"
cat "$base" > /dev/null  # page cache

run() { local t0 t1; t0=$(now); "$@" > /dev/null; t1=$(now); secs "$t0" "$t1"; }

log ""
log "## Hashing and adding (file in page cache)"
t_md5=$(run md5sum "$base")
t_sha=$(run sha256sum "$base")
ws=$(mktemp -d)/ws
"$keel" init "$ws" > /dev/null
t0=$(now); addjson=$("$keel" -C "$ws" --json data add "$base" --name big); t1=$(now); t_add=$(secs "$t0" "$t1")
ms() { echo "$addjson" | $py -c "import json,sys; print(json.load(sys.stdin)['timings_ms']['$1'] / 1000)"; }
t_store=$(ms store)
log "| step | seconds | GB/s | vs md5sum |"
log "|---|---|---|---|"
for pair in "md5sum:$t_md5" "sha256sum (coreutils, no SHA-NI):$t_sha" "keel data add, whole command:$t_add" "keel data add, store step alone (chunk + SHA-256 + pack write):$t_store"; do
  name=${pair%%:*}; t=${pair##*:}
  log "| $name | $t | $(echo "$bytes / $t / 1000000000" | bc -l | xargs printf '%.2f') | $(echo "$t_md5 / $t" | bc -l | xargs printf '%.2fx') |"
done

log ""
log "keel data add step by step (s): parse $(ms parse), profile $(ms profile), store $(ms store), cache write $(ms cache), commit $(ms commit)"

log ""
log "## Second versions: new bytes stored"
log "| change | file size | new bytes stored by keel | share | DVC / git-lfs store |"
log "|---|---|---|---|---|"
for v in append edit insert; do
  f=$out/$v.csv
  json=$("$keel" -C "$ws" --json data add "$f" --name "big" -m "$v")
  nb=$(echo "$json" | $py -c 'import json,sys; print(json.load(sys.stdin)["new_bytes"])')
  fs=$(stat -c %s "$f")
  log "| 1% $v | $(numfmt --to=iec-i --suffix=B "$fs") | $(numfmt --to=iec-i --suffix=B "$nb") | $(echo "100 * $nb / $fs" | bc -l | xargs printf '%.2f%%') | 100% (whole-file copy) |"
done

log ""
log "## Parsing to a typed table"
t_inspect=$(run "$keel" data inspect --no-profile "$base")
t_profile=$(run "$keel" data inspect "$base")
if $py -c 'import pandas' 2>/dev/null; then
  t_pandas=$($py bench/pandas_peer.py read "$base")
  t_pandas_d=$($py bench/pandas_peer.py describe "$base")
  log "| step | keel | pandas | ratio (pandas / keel) |"
  log "|---|---|---|---|"
  log "| parse (keel data inspect --no-profile vs read_csv) | $t_inspect | $t_pandas | $(echo "$t_pandas / $t_inspect" | bc -l | xargs printf '%.2fx') |"
  log "| parse + profile (inspect vs read_csv + describe(include='all')) | $t_profile | $t_pandas_d | $(echo "$t_pandas_d / $t_profile" | bc -l | xargs printf '%.2fx') |"
else
  log "pandas not installed (KEEL_BENCH=1 bash packaging/install-deps.sh); keel alone: parse $t_inspect s, parse+profile $t_profile s"
fi

log ""
log "## Reopening a cached version"
"$keel" -C "$ws" data head big@v1 -n 1 > /dev/null   # make sure the cache exists
t_reopen=$(run "$keel" -C "$ws" data head big@v1 -n 20)
log "time to first 20 rows of a cached 1 GiB version (whole process: start, resolve, map, print): $t_reopen s"
rm -rf "$(dirname "$ws")"
echo
echo "results: $results"
