#!/usr/bin/env bash
# `make run`'s processes: the web server, the background worker (`caseshare worker`, which
# seals audit events continuously and sends appointment reminders) and a local SMTP server that
# receives those reminders (caseshare/outbound/mail_sink.py; what it received is in
# $CASESHARE_INSTANCE_PATH/mail, listed by `python -m caseshare.outbound.mail_sink --show
# instance/mail`, and on the IG officers' /ig/outbox page). Ctrl-C (or SIGTERM) stops them
# all; if any exits, so do the others. MAIL_SINK=0 leaves the mail server out (set
# CASESHARE_OUTBOUND and CASESHARE_SMTP_* for a real one).
set -uo pipefail
BIN=${BIN:-.venv/bin}
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-5000}
MAIL_SINK=${MAIL_SINK:-1}
export CASESHARE_OUTBOUND=${CASESHARE_OUTBOUND:-smtp}
export CASESHARE_SMTP_HOST=${CASESHARE_SMTP_HOST:-127.0.0.1}
export CASESHARE_SMTP_PORT=${CASESHARE_SMTP_PORT:-2525}
PIDS=()
if [ "$MAIL_SINK" = 1 ]; then
  "$BIN/python" -m caseshare.outbound.mail_sink --host "$CASESHARE_SMTP_HOST" \
    --port "$CASESHARE_SMTP_PORT" --spool "${CASESHARE_INSTANCE_PATH:-instance}/mail" &
  PIDS+=($!)
fi
"$BIN/flask" --app wsgi caseshare worker &
PIDS+=($!)
"$BIN/flask" --app wsgi run --host "$HOST" --port "$PORT" &
PIDS+=($!)
stop() {
  trap - INT TERM EXIT
  kill -TERM "${PIDS[@]}" 2>/dev/null
  wait "${PIDS[@]}" 2>/dev/null
}
trap 'stop; exit 0' INT TERM
trap stop EXIT
# Whichever ends first (Ctrl-C reaches all through the terminal too) ends the others.
wait -n "${PIDS[@]}"
status=$?
stop
exit $status
