#!/usr/bin/env bash
# The headless tour: builds the example workspace (four datasets, one with a second version), and shows a
# dataset's log, diff, validation, the model registry (champion, history, comparison, bundles), training runs (branch, compare, reproduce), explanations, exports and batch
# predictions, deployment, serving, monitoring with an automatic rollback, and the object store's dedup; then opens the workbench
# on it when a display is available.
# Usage: resources/examples/tour.sh [WORKSPACE_DIR]   (KEEL=path/to/keel to pick the binary)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
keel=${KEEL:-$here/../../build/app/keel}
# Installed from the package (/usr/share/keel/examples/tour.sh): the keel on PATH.
[[ -x $keel ]] || keel=$(command -v keel || true)
[[ -x $keel ]] || { echo "tour: keel binary not found (build first, install the package, or set KEEL=...)" >&2; exit 1; }
ws=${1:-$(mktemp -d)/keel-example}

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

step "$keel" init --example "$ws"
cd "$ws"
step "$keel" data list

# The example's adult_train has two versions: v2 is a refresh in which the first 1,000 people leave and 2,000 from the
# test file arrive (labels without the test file's trailing dot). Adding bytes a dataset already holds commits nothing:
step "$keel" data add "$here/adult_test.csv" --name adult_test -m "the same file again"

step "$keel" data log adult_train
step "$keel" data show adult_train@v2
step "$keel" data head adult_train -n 5
step "$keel" data diff adult_train@v1 adult_train@v2
step "$keel" data rules suggest adult_train@v1 -o rules/adult.yaml
if ! step "$keel" data validate adult_train@v2 --rules rules/adult.yaml; then
  echo "(validation reported the violations above: v2 has values v1's rules did not allow)"
fi
step "$keel" train configs/diamonds-ridge.yaml
step "$keel" train configs/adult-gbdt.yaml
gbdt=$("$keel" --json runs list --experiment adult | sed -n 's/.*"id": *"\([0-9a-f-]*\)".*/\1/p' | tail -n 1)
step "$keel" train --from "$gbdt" --set params.max_depth=4
branch=$("$keel" --json runs list --experiment adult | sed -n 's/.*"id": *"\([0-9a-f-]*\)".*/\1/p' | tail -n 1)
step "$keel" runs compare "$gbdt" "$branch"
step "$keel" runs reproduce "$gbdt"
step "$keel" explain "$gbdt" --rows 1-2 --global --fairness sex --bootstrap 200
# What the run made can leave Keel: its artifacts, the model for other tools, batch scoring with the stored recipe.
step "$keel" runs artifacts "$gbdt"
step "$keel" runs get "$gbdt" model -o "$ws/exports/adult-gbdt.model.json"
step "$keel" predict "$gbdt" --data adult_test --rows 1-5 --explain
step "$keel" predict "$gbdt" --rows test -o "$ws/exports/adult-gbdt.test-predictions.csv"
"$keel" runs get "$gbdt" predictions -o - | cmp - "$ws/exports/adult-gbdt.test-predictions.csv" \
  && echo "(keel predict on the run's test rows equals its predictions artifact, byte for byte)"
# The registry: two versions of a credit model, a champion with a history, a significance-tested comparison, and a
# bundle that travels to a fresh clone of the workspace (a tampered copy is refused, naming the changed member).
step "$keel" train configs/adult-logistic.yaml
logistic=$("$keel" --json runs list --experiment adult | sed -n 's/.*"id": *"\([0-9a-f-]*\)".*/\1/p' | tail -n 1)
step "$keel" models register "$logistic" --name credit -m "logistic regression baseline"
step "$keel" models register "$gbdt" --name credit -m "boosted trees"
step "$keel" models alias credit@v1 champion -m "first model in production"
sleep 1; before_switch=$(date -u +%Y-%m-%dT%H:%M:%SZ); sleep 1
step "$keel" models compare credit@v1 credit@v2
step "$keel" models approve credit@v2 -m "comparison and fairness by sex reviewed"
step "$keel" models alias credit@v2 champion -m "boosted trees beat the baseline (models compare)"
step "$keel" models history credit
step "$keel" models history credit --alias champion --at "$before_switch"
step "$keel" models show credit@champion
step "$keel" models export credit@champion -o "$ws/exports/credit-champion.keel"
remote=$(mktemp -d)/keel-remote
step "$keel" remote add origin "$remote"
step "$keel" push
fresh=$(mktemp -d)/keel-clone
step "$keel" clone "$remote" "$fresh"
(cd "$fresh" && step "$keel" models import "$ws/exports/credit-champion.keel" --name credit-from-file \
   && step "$keel" models list)
/usr/bin/python3 - "$ws/exports/credit-champion.keel" "$ws/exports/credit-tampered.keel" <<'PY'
import io, sys, tarfile
src, dst = tarfile.open(sys.argv[1]), tarfile.open(sys.argv[2], "w", format=tarfile.PAX_FORMAT)
for m in src.getmembers():
    data = src.extractfile(m).read()
    if m.name.endswith("/recipe.json"):
        data = data.replace(b'"max_categories":30', b'"max_categories":31')
    m.size = len(data)
    dst.addfile(m, io.BytesIO(data))
dst.close()
PY
if (cd "$fresh" && step "$keel" models import "$ws/exports/credit-tampered.keel" --name credit-tampered); then
  echo "tour: a tampered bundle was accepted" >&2; exit 1
fi
echo "(the tampered bundle was refused: its recipe no longer matches the manifest)"
# Deployment and serving: the champion goes live through the gates, answers HTTP requests and takes feedback; the
# challenger (the baseline, here) scores every request in shadow; then a rollback returns to the first revision.
step "$keel" deploy credit --model credit@champion -m "the boosted trees go live"
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$keel" serve --port "$port" --flush-ms 50 > "$ws/exports/serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
record='{"age": 39, "workclass": "State-gov", "education": "Bachelors", "education_num": 13, "marital_status": "Never-married", "occupation": "Adm-clerical", "relationship": "Not-in-family", "race": "White", "sex": "Male", "capital_gain": 2174, "capital_loss": 0, "hours_per_week": 40, "native_country": "United-States"}'
echo "\$ curl -s -X POST http://127.0.0.1:$port/v1/deployments/credit/predict -d '{\"records\": [...]}'"
answer=$(curl -sf -X POST "http://127.0.0.1:$port/v1/deployments/credit/predict" -d "{\"records\": [$record]}")
echo "$answer"
id=$(echo "$answer" | sed -n 's/.*"id":"\([^"]*\)".*/\1/p')
echo "\$ curl -s -X POST http://127.0.0.1:$port/v1/deployments/credit/feedback -d '{\"prediction_id\": \"$id\", \"label\": \">50K\"}'"
curl -sf -X POST "http://127.0.0.1:$port/v1/deployments/credit/feedback" -d "{\"prediction_id\": \"$id\", \"label\": \">50K\"}"; echo
step "$keel" deploy credit --model credit@champion --shadow credit@v1 -m "the baseline in shadow"
sleep 0.5
curl -sf -X POST "http://127.0.0.1:$port/v1/deployments/credit/explain" -d "{\"records\": [$record, $record]}"; echo
sleep 0.3
step "$keel" rollback credit --to 1 -m "shadow finished"
step "$keel" deployments history credit
step "$keel" log show credit
step "$keel" monitor drift credit --window 10
step "$keel" monitor performance credit --window 10
curl -sf "http://127.0.0.1:$port/metrics" | grep -E '^keel_(requests_total|shadow|feedback)'
kill "$server"; wait "$server" 2>/dev/null || true

# Monitoring a year of change, shortened: a ridge and then a GBDT model of hourly bike rentals trained on 2011 are
# deployed; four months of 2012 are replayed through the server with each true count a day later. The server checks
# monitors/bikes.yaml every second: the seasons drift at once, and when the error stays above 140 rentals for two
# windows the monitor rolls the deployment back to the ridge model, naming the rule in the audit trail.
for config in bikes-ridge bikes-gbdt; do
  run=$("$keel" --json train "$here/configs/$config.yaml" | sed -n 's/.*"run": *"\([^"]*\)".*/\1/p' | head -1)
  step "$keel" models register "$run" --name bikes -m "$config, trained on 2011"
done
step "$keel" deploy bikes --model bikes@v1 -m "a first model"
step "$keel" deploy bikes --model bikes@v2 -m "the boosted trees"
mkdir -p monitors
cat > monitors/bikes.yaml <<'YAML'
deployment: bikes
window: 720
min_predictions: 200
rules:
  - name: seasonal drift
    metric: psi
    above: 0.25
    windows: 2
  - name: error too high
    metric: rmse
    above: 140
    windows: 2
    actions: [rollback]
YAML
cat monitors/bikes.yaml
"$keel" serve --port "$port" --flush-ms 50 --monitor-every 1 > "$ws/exports/serve-bikes.log" 2>&1 &
server=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
step "$keel" monitor replay bikes --data bike@v1 --time-column dteday --from 2012-01-01 --limit 2880 \
  --labels-after 1d --batch 24 --speed 3000000 --server "http://127.0.0.1:$port"
for _ in $(seq 100); do grep -q "now at revision 3" "$ws/exports/serve-bikes.log" && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$port/metrics" | grep -E '^keel_(drift_score\{deployment="bikes",feature="(temp|mnth|prediction)"|model_performance|monitor_rule)'
kill "$server"; wait "$server" 2>/dev/null || true
step "$keel" monitor alerts
step "$keel" deployments history bikes
step "$keel" monitor performance bikes --window 720 --bootstrap 100
# A pipeline: validate -> train -> gate -> register -> deploy (pipelines/income.yaml). The first run runs every stage;
# the second finds every input unchanged and skips them all.
cat pipelines/income.yaml
step "$keel" run income --dry-run
step "$keel" run income
step "$keel" run income
step "$keel" pipelines list
step "$keel" runs list
step "$keel" store stats
step "$keel" store fsck
step "$keel" audit -n 10
step "$keel" audit verify
# Why did the model decide this, back then? The first served prediction, explained from its id alone.
step "$keel" audit decision "$id"
echo
echo "Tour workspace: $ws"
# With a display, finish in the workbench on the same workspace.
workbench=$(dirname "$keel")/keel-workbench
if [[ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" && -x $workbench ]]; then
  echo "Opening the workbench on it..."
  exec "$workbench" "$ws"
fi
