#!/usr/bin/env bash
# Smoke test of `make run`'s path: migrate, seed, serve, and make the README's example requests.
set -euo pipefail
BIN=${BIN:-.venv/bin}
export CASESHARE_INSTANCE_PATH=$(mktemp -d)
PORT=5077
PID=
# scripts/run.sh, as `make run` starts it: the web server and the worker that seals the log.
cleanup() {
  code=$?
  trap - EXIT
  if [ -n "$PID" ]; then kill -TERM "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  rm -rf "$CASESHARE_INSTANCE_PATH"
  exit "$code"
}
trap cleanup EXIT
$BIN/flask --app wsgi db upgrade
$BIN/flask --app wsgi caseshare seed-demo
BIN=$BIN PORT=$PORT bash scripts/run.sh >/dev/null 2>&1 &
PID=$!
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done
TOKEN=$($BIN/flask --app wsgi caseshare token issue --user sam.okafor@jcp-derby.example)
ID=$(curl -sf -H "Authorization: Bearer $TOKEN" \
  "http://127.0.0.1:$PORT/api/v1/subjects?nino=QQ123456C&purpose=case_management" \
  | $BIN/python -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])')
curl -sf -H "Authorization: Bearer $TOKEN" \
  "http://127.0.0.1:$PORT/api/v1/subjects/$ID/case-plan?purpose=case_management" \
  | $BIN/python -c 'import json,sys; p=json.load(sys.stdin); assert p["entries"], p; print("demo-check: case plan read OK,", len(p["entries"]), "entries")'
# The read's audit event must reach a signed checkpoint by itself (the worker), within 5 s and
# without `audit seal`.
$BIN/python - <<'PY'
import os, sqlite3, sys, time
db = sqlite3.connect(os.path.join(os.environ["CASESHARE_INSTANCE_PATH"], "caseshare.db"))
event = db.execute("SELECT id FROM audit_events WHERE type = 'case_plan:plan:read' "
                   "ORDER BY id DESC LIMIT 1").fetchone()[0]
deadline = time.time() + 5
while time.time() < deadline:
    seq = db.execute("SELECT seq FROM audit_events WHERE id = ?", (event,)).fetchone()[0]
    size = db.execute("SELECT max(tree_size) FROM audit_checkpoints").fetchone()[0]
    if seq is not None and size is not None and size > seq:
        print(f"demo-check: the read's audit event was sealed by the worker (log position {seq})")
        sys.exit(0)
    time.sleep(0.1)
sys.exit("demo-check: the read's audit event was not sealed within 5 s (is the worker running?)")
PY
$BIN/flask --app wsgi caseshare audit verify
