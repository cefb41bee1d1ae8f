#!/usr/bin/env bash
# Ingest side by side in one run (issue: "data add as fast as hashing, parsing ahead of Polars"): on one CSV in the
# page cache, md5sum (DVC's hash), openssl SHA-256 (the hardware floor), Polars readCSV, DuckDB read_csv (+ SUMMARIZE),
# and Keel's data inspect (with and without the profile), data add (with its step timings) and data add --no-parse;
# then a second version with 1% of the rows edited. Peers from ../shared/peers, installed under bench/out/peers.
# Usage: bash bench/run-ingest.sh [SIZE_MB] [BUILD_DIR]   (default 1024 MB, build)
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-1024}
build=${2:-build}
keel=$PWD/$build/app/keel
gen=$PWD/$build/bench/keel-bench-gencsv
out=$PWD/bench/out
peers=$out/peers
mkdir -p "$out" "$peers"
if [[ ! -d $peers/node_modules/nodejs-polars ]]; then
  src=${KEEL_PEERS:-$PWD/../shared/peers}
  cp "$src"/package.json "$src"/*.mjs "$peers"/
  npm install --prefix "$peers" --no-audit --no-fund --loglevel=error >/dev/null
fi
base=$out/ingest-base.csv
edit=$out/ingest-edit.csv
[[ -f $base ]] || "$gen" "$base" "$size" base
[[ -f $edit ]] || "$gen" "$edit" "$size" edit
bytes=$(stat -c %s "$base")
cat "$base" "$edit" > /dev/null
t() { local s e; s=$(date +%s.%N); "$@" > /dev/null 2>&1; e=$(date +%s.%N); python3 -c "print(f'{$e - $s:.2f}')"; }
ws() { local d; d=$(mktemp -d -p "$out")/ws; "$keel" init "$d" > /dev/null; echo "$d"; }

echo "ingest of $(numfmt --to=iec-i --suffix=B "$bytes") ($(wc -l < "$base") lines, 20 columns), $(nproc) cores, $(date -u +%FT%TZ)"
md5=$(t md5sum "$base")
sha=$(t openssl dgst -sha256 "$base")
polars=$(t node "$peers/polars.mjs" "$base")
duck=$(t node "$peers/duck.mjs" "$base" 2)
ducksum=$(t node "$peers/duck.mjs" "$base" 2 summarize)
noprof=$(t "$keel" data inspect "$base" --no-profile)
prof=$(t "$keel" data inspect "$base")
w1=$(ws)
s=$(date +%s.%N); addjson=$("$keel" -C "$w1" --json data add "$base" --name big); e=$(date +%s.%N)
add=$(python3 -c "print(f'{$e - $s:.2f}')")
steps=$(echo "$addjson" | python3 -c "import json,sys; t=json.load(sys.stdin)['timings_ms']; print(', '.join(f'{k} {v/1000:.2f} s' for k,v in t.items()))")
w2=$(ws)
noparse=$(t "$keel" -C "$w2" data add "$base" --name big --no-parse)
newbytes=$("$keel" -C "$w1" --json data add "$edit" --name big -m edit | python3 -c "import json,sys; print(json.load(sys.stdin)['new_bytes'])")
rm -rf "$(dirname "$w1")" "$(dirname "$w2")"

echo "| what | seconds |"
echo "|---|---|"
for pair in "md5sum:$md5" "openssl dgst -sha256:$sha" "Polars readCSV:$polars" "DuckDB read_csv:$duck" "DuckDB read_csv + SUMMARIZE:$ducksum" \
            "keel data inspect --no-profile:$noprof" "keel data inspect:$prof" "keel data add:$add" "keel data add --no-parse:$noparse"; do
  echo "| ${pair%%:*} | ${pair##*:} |"
done
echo
echo "keel data add steps: $steps"
python3 - "$md5" "$polars" "$ducksum" "$noprof" "$prof" "$add" "$noparse" <<'PY'
import sys
md5, polars, ducksum, noprof, prof, add, noparse = map(float, sys.argv[1:])
print(f"inspect --no-profile vs Polars: {polars/noprof:.2f}x (target >= 1.5x)")
print(f"inspect (with profile) vs DuckDB read_csv + SUMMARIZE: {ducksum/prof:.2f}x (target >= 3x)")
print(f"data add vs the parse alone (inspect --no-profile): {add/noprof:.2f}x (target <= 1.15x)")
print(f"data add --no-parse vs md5sum: {md5/noparse:.2f}x (target >= 3x)")
PY
echo "second version, 1% of rows edited: $newbytes new bytes stored ($(python3 -c "print(f'{100*$newbytes/$bytes:.2f}')")% of the file)"
