#!/usr/bin/env bash
# Smoke test of `make run`'s path: migrate, seed, serve, and make the README's example requests.
set -euo pipefail
BIN=${BIN:-.venv/bin}
export CASESHARE_INSTANCE_PATH=$(mktemp -d)
trap 'kill $PID 2>/dev/null || true; rm -rf "$CASESHARE_INSTANCE_PATH"' EXIT
$BIN/flask --app wsgi db upgrade
$BIN/flask --app wsgi caseshare seed-demo
PORT=5077
$BIN/flask --app wsgi run --host 127.0.0.1 --port $PORT >/dev/null 2>&1 &
PID=$!
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done
TOKEN=$($BIN/flask --app wsgi caseshare token issue --user sam.okafor@jcp-derby.example)
ID=$(curl -sf -H "Authorization: Bearer $TOKEN" \
  "http://127.0.0.1:$PORT/api/v1/subjects?nino=QQ123456C&purpose=case_management" \
  | $BIN/python -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])')
curl -sf -H "Authorization: Bearer $TOKEN" \
  "http://127.0.0.1:$PORT/api/v1/subjects/$ID/case-plan?purpose=case_management" \
  | $BIN/python -c 'import json,sys; p=json.load(sys.stdin); assert p["entries"], p; print("demo-check: case plan read OK,", len(p["entries"]), "entries")'
$BIN/flask --app wsgi caseshare audit seal
$BIN/flask --app wsgi caseshare audit verify
