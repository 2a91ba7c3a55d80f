#!/usr/bin/env bash
# `make run`'s processes: the web server and the background worker (`caseshare worker`, which
# seals audit events continuously). Ctrl-C (or SIGTERM) stops both; if either exits, so does
# the other.
set -uo pipefail
BIN=${BIN:-.venv/bin}
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-5000}
"$BIN/flask" --app wsgi caseshare worker &
WORKER=$!
"$BIN/flask" --app wsgi run --host "$HOST" --port "$PORT" &
WEB=$!
stop() {
  trap - INT TERM EXIT
  kill -TERM "$WEB" "$WORKER" 2>/dev/null
  wait "$WEB" "$WORKER" 2>/dev/null
}
trap 'stop; exit 0' INT TERM
trap stop EXIT
# Whichever ends first (Ctrl-C reaches both through the terminal too) ends the other.
wait -n "$WEB" "$WORKER"
status=$?
stop
exit $status
