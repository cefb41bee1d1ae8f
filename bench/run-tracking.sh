#!/usr/bin/env bash
# `keel runs list` over 100,000 runs (one param and one final metric each), on the shared PostgreSQL store and on
# the local SQLite file, in one run. Starts its own postgres on a loopback port (initdb as the postgres user when
# root) and stops it by process id. Usage: bash bench/run-tracking.sh [BUILD_DIR] [RUNS]
set -euo pipefail
build=${1:-build}
runs=${2:-100000}
keel=$(realpath "$build/app/keel")
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
work=$(mktemp -d)
chmod 755 "$work"
mkdir -p "$work/pg"
as_pg=()
if [[ $(id -u) -eq 0 ]]; then chown postgres "$work/pg"; as_pg=(runuser -u postgres --); fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"${as_pg[@]}" "$pgbin/initdb" -D "$work/pg" -U keel --auth=trust --no-sync -E UTF8 --locale=C.UTF-8 >/dev/null
"${as_pg[@]}" "$pgbin/pg_ctl" -D "$work/pg" -o "-p $port -k $work/pg -c listen_addresses=127.0.0.1" -l "$work/pg/log" -w start >/dev/null
pid=$(head -1 "$work/pg/postmaster.pid")
trap 'kill -INT $pid 2>/dev/null; sleep 1; [[ -n ${KEEP:-} ]] || rm -rf "$work"' EXIT
"$pgbin/createdb" -h 127.0.0.1 -p "$port" -U keel bench

fill_sql() {   # $1: SQL for "now + g seconds" as ISO text
  cat <<SQL
INSERT INTO runs (id, experiment_id, name, status, user_name, host, pid, start_time, end_time, config)
  SELECT printf_id, 1, 'run' || g, 'finished', 'ann', 'node1', g, $1, NULL, '' FROM gen;
INSERT INTO params SELECT id, 'eta', '0.' || pid FROM runs;
INSERT INTO metrics SELECT id, 'test.accuracy', 0, pid / 100000.0, start_time FROM runs;
SQL
}

# PostgreSQL workspace.
"$keel" init "$work/pgws" >/dev/null
echo "tracking: postgresql://keel@127.0.0.1:$port/bench" >> "$work/pgws/keel.yaml"
(cd "$work/pgws" && "$keel" runs list >/dev/null)   # creates the schema
"$pgbin/psql" -q -h 127.0.0.1 -p "$port" -U keel bench <<SQL
INSERT INTO experiments (name, created_at) VALUES ('bulk', '2026-01-01T00:00:00.000Z');
CREATE TEMP VIEW gen AS SELECT g, lpad(to_hex(g), 32, '0') AS printf_id FROM generate_series(1, $runs) g;
$(fill_sql "to_char(timestamp '2026-01-01' + g * interval '1 second', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')")
ANALYZE;
SQL

# SQLite workspace with the same rows.
"$keel" init "$work/sqlws" >/dev/null
(cd "$work/sqlws" && "$keel" runs list >/dev/null)
python3 - "$work/sqlws/.keel/keel.db" "$runs" <<'PY'
import sqlite3, sys, datetime
db = sqlite3.connect(sys.argv[1]); n = int(sys.argv[2])
db.execute("INSERT INTO experiments (name, created_at) VALUES ('bulk', '2026-01-01T00:00:00.000Z')")
t0 = datetime.datetime(2026, 1, 1)
rows = [("%032x" % g, 1, "run%d" % g, "finished", "ann", "node1", g,
         (t0 + datetime.timedelta(seconds=g)).strftime("%Y-%m-%dT%H:%M:%S.000Z"), None, "") for g in range(1, n + 1)]
db.executemany("INSERT INTO runs (id, experiment_id, name, status, user_name, host, pid, start_time, end_time, config) VALUES (?,?,?,?,?,?,?,?,?,?)", rows)
db.execute("INSERT INTO params SELECT id, 'eta', '0.' || pid FROM runs")
db.execute("INSERT INTO metrics SELECT id, 'test.accuracy', 0, pid / 100000.0, start_time FROM runs")
db.commit(); db.execute("ANALYZE"); db.commit()
PY

echo "work: $work"
echo "keel runs list over $runs runs (best of 3 wall-clock seconds; output to /dev/null)"
# BASELINE=/path/to/older/keel measures that binary too, alternating with this one, so a change is judged on the
# same machine at the same minute (this VM's speed drifts by a third over an hour).
binaries=("$keel")
[[ -n ${BASELINE:-} ]] && binaries+=("$(realpath "$BASELINE")")
for ws in pgws sqlws; do
  declare -A best=()
  for i in 1 2 3; do
    for b in "${binaries[@]}"; do
      t=$( { /usr/bin/time -f %e "$b" -C "$work/$ws" runs list > /dev/null; } 2>&1 | tail -1)
      best[$b]=$(python3 -c "print(min(${best[$b]:-999}, $t))")
    done
  done
  lines=$("$keel" -C "$work/$ws" runs list | wc -l)
  echo "  $ws: ${best[$keel]} s  ($lines lines)"
  [[ -n ${BASELINE:-} ]] && echo "  $ws, baseline $BASELINE: ${best[${binaries[1]}]} s"
  unset best
done
