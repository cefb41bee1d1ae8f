#!/usr/bin/env bash
# Online scoring side by side in one run: `keel serve` against the MLflow-style FastAPI and Flask peers
# (bench/serve_peer.py, copied from ../shared/peers: the same Adult data, an xgboost model of the same family, the same
# JSON record), each measured with `wrk -t2 -c16 -d10s --latency`; then a 10,000-record request, and a deploy and a
# rollback while wrk runs (non-2xx responses, time until the rolled-back model answers). Not part of the test run.
#   bash bench/run-serve.sh        # needs wrk python3-fastapi python3-uvicorn python3-flask python3-xgboost python3-pandas
# Results: bench/out/serve-results.md. Run on a quiet machine (XGBoost threads spin while waiting).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD:-build}
[[ $build == /* ]] || build=$PWD/$build
keel=$build/app/keel
py=/usr/bin/python3
bench=$PWD/bench
out=$bench/out
work=$out/serve
duration=${DURATION:-10s}
command -v wrk >/dev/null || { echo "needs wrk (apt-get install wrk)" >&2; exit 1; }
$py -c 'import fastapi, uvicorn, flask, xgboost, pandas' 2>/dev/null || { echo "needs python3-fastapi python3-uvicorn python3-flask python3-xgboost python3-pandas" >&2; exit 1; }
rm -rf "$work"; mkdir -p "$work"
pids=()
trap 'kill ${pids[@]+"${pids[@]}"} 2>/dev/null || true' EXIT
free_port() { $py -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_up() { for _ in $(seq 300); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done; echo "not up: $1" >&2; exit 1; }

# Keel: the example workspace, the adult GBDT registered and deployed.
cd "$work"
$keel init --example ws >/dev/null
cd ws
run=$($keel --json train configs/adult-gbdt.yaml | sed -n 's/.*"run": *"\([0-9a-f-]*\)".*/\1/p')
base=$($keel --json train configs/adult-logistic.yaml | sed -n 's/.*"run": *"\([0-9a-f-]*\)".*/\1/p')
$keel models register "$run" --name credit >/dev/null
$keel models register "$base" --name credit >/dev/null
$keel deploy credit --model credit@v1 -m bench >/dev/null
keel_port=$(free_port)
$keel serve --port "$keel_port" > "$work/keel-serve.log" 2>&1 &
pids+=($!)
wait_up "http://127.0.0.1:$keel_port/readyz"
sed -e 's/"dataframe_records"/"records"/' -e 's/ "fnlwgt": 77516,//' "$bench/serve_peer_post.lua" > "$work/keel_post.lua"

# The HTTP layer's floor: a route that only parses the same body, on Qt HttpServer (what keel serve uses) and on
# Boost.Beast (one Asio thread, like Qt's one event-loop thread).
floor=$build/bench/keel-bench-http-floor
declare -A floor_port
for kind in qt beast; do
  floor_port[$kind]=$(free_port)
  "$floor" "$kind" "${floor_port[$kind]}" 1 > "$work/floor-$kind.log" 2>&1 &
  pids+=($!)
done
for kind in qt beast; do wait_up "http://127.0.0.1:${floor_port[$kind]}/"; done

# The peers, on the same training file.
train_csv=$(cd "$bench/.." && pwd)/resources/examples/adult_train.csv
declare -A peer_port
for kind in fastapi flask; do
  peer_port[$kind]=$(free_port)
  $py "$bench/serve_peer.py" "$kind" "${peer_port[$kind]}" "$train_csv" > "$work/$kind.log" 2>&1 &
  pids+=($!)
done
for kind in fastapi flask; do wait_up "http://127.0.0.1:${peer_port[$kind]}/"; done

measure() {  # name url script -> wrk summary in $work/NAME.wrk
  wrk -t2 -c16 -d"$duration" --latency -s "$3" "$2" > "$work/$1.wrk"
}
measure keel "http://127.0.0.1:$keel_port/v1/deployments/credit/predict" "$work/keel_post.lua"
for kind in qt beast; do
  measure "floor-$kind" "http://127.0.0.1:${floor_port[$kind]}/v1/deployments/credit/predict" "$work/keel_post.lua"
done
measure fastapi "http://127.0.0.1:${peer_port[fastapi]}/invocations" "$bench/serve_peer_post.lua"
measure flask "http://127.0.0.1:${peer_port[flask]}/invocations" "$bench/serve_peer_post.lua"
rps() { sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$work/$1.wrk"; }
p99() { sed -n 's/^ *99% *\([0-9.]*[a-z]*\).*/\1/p' "$work/$1.wrk"; }
non2xx() { local n; n=$(sed -n "s/^ *Non-2xx or 3xx responses: *\([0-9]*\).*/\1/p" "$work/$1.wrk"); echo "${n:-0}"; }

# One request of 10,000 records (the first 10,000 rows of adult_test as JSON).
$py - "$bench/../resources/examples/adult_test.csv" "$work/batch.json" <<'PY'
import csv, json, sys
rows = []
with open(sys.argv[1]) as f:
    for i, r in enumerate(csv.DictReader(f)):
        if i == 10000: break
        r.pop("fnlwgt"); r.pop("class")
        rows.append({k: (int(v) if k in ("age", "education_num", "capital_gain", "capital_loss", "hours_per_week") else (v or None)) for k, v in r.items()})
json.dump({"records": rows}, open(sys.argv[2], "w"))
PY
batch_times=()
for _ in 1 2 3; do
  batch_times+=($(curl -s -o /dev/null -H 'Expect:' -w '%{time_total}' -X POST --data-binary @"$work/batch.json" "http://127.0.0.1:$keel_port/v1/deployments/credit/predict"))
done

# Deploy and roll back while wrk runs: every response must be 2xx; time until the old model answers again.
wrk -t2 -c16 -d6s --latency -s "$work/keel_post.lua" "http://127.0.0.1:$keel_port/v1/deployments/credit/predict" > "$work/switch.wrk" &
wrk_pid=$!
sleep 1.5
$keel deploy credit --model credit@v2 --tolerance 1 -m "bench switch" >/dev/null
sleep 1.5
t0=$($py -c 'import time; print(time.time())')
$keel rollback credit -m "bench rollback" >/dev/null
until curl -s -X POST --data-binary "$(sed -n "s/^wrk.body = '\(.*\)'$/\1/p" "$work/keel_post.lua")" \
      "http://127.0.0.1:$keel_port/v1/deployments/credit/predict" | grep -q '"model":"credit@v1"'; do sleep 0.005; done
t1=$($py -c 'import time; print(time.time())')
wait $wrk_pid

ratio() { $py -c "print(f'{$1 / $2:.0f}')"; }
{
  echo "| server (wrk -t2 -c16 -d$duration, one adult record per request) | requests/s | p99 | non-2xx |"
  echo "|---|---|---|---|"
  for n in keel floor-qt floor-beast fastapi flask; do echo "| $n | $(rps $n) | $(p99 $n) | $(non2xx $n) |"; done
  echo
  echo "Keel / FastAPI throughput: $(ratio "$(rps keel)" "$(rps fastapi)")x; Keel / Flask: $(ratio "$(rps keel)" "$(rps flask)")x."
  echo "One request of 10,000 records: ${batch_times[*]} s (three runs)."
  echo "Deploy + rollback under load: $(rps switch) requests/s, non-2xx: $(non2xx switch); rollback command to the old model answering: $($py -c "print(f'{($t1 - $t0):.3f}')") s (includes the keel rollback process)."
} | tee "$out/serve-results.md"
