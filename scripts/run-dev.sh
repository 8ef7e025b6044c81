#!/usr/bin/env bash
# Starts the Django development server and a Celery worker with embedded beat, and waits; Ctrl-C
# (or TERM) stops all of them within a few seconds, and so does either one stopping by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
# Survey links, the visit slip's QR code and Twilio's callbacks are built on this address: by
# default the one this server listens at.
export PUBLIC_BASE_URL=${PUBLIC_BASE_URL:-http://$HOST:$PORT}
mkdir -p var/broker/out var/broker/processed

SERVER=""
WORKER=""

# A process and all its descendants (the reloader's child, the worker's pool and beat), listed
# before anything is signalled: once a parent is gone its children are no longer found under it.
tree() {
  local pid
  for pid in "$@"; do
    echo "$pid"
    # shellcheck disable=SC2046
    tree $(pgrep -P "$pid" || true)
  done
}

stop() {
  trap - INT TERM EXIT
  set +e
  local pids left pid
  # shellcheck disable=SC2086
  pids=$(tree $SERVER $WORKER)
  [ -n "$pids" ] || return 0
  echo "Stopping the server and the worker..." >&2
  [ -n "$SERVER" ] && kill -TERM "$SERVER" 2>/dev/null
  # QUIT is Celery's cold shutdown. Its warm one (TERM, or the INT of a Ctrl-C) waits for the
  # embedded beat, which hangs at "beat: Shutting down".
  [ -n "$WORKER" ] && kill -QUIT "$WORKER" 2>/dev/null
  # Two seconds for them to exit (microseconds: EPOCHREALTIME without its decimal sign).
  local deadline=$((${EPOCHREALTIME//[!0-9]/} + 2000000))
  while :; do
    left=""
    for pid in $pids; do
      if kill -0 "$pid" 2>/dev/null; then left="$left $pid"; fi
    done
    [ -n "$left" ] || return 0
    [ "${EPOCHREALTIME//[!0-9]/}" -lt "$deadline" ] || break
    sleep 0.1
  done
  # shellcheck disable=SC2086
  kill -KILL $left 2>/dev/null
  # shellcheck disable=SC2086
  wait $SERVER $WORKER 2>/dev/null
  return 0
}
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM
trap stop EXIT

"$BIN/python" manage.py runserver "$HOST:$PORT" &
SERVER=$!
"$BIN/celery" -A config worker --beat --loglevel=INFO --concurrency=2 &
WORKER=$!

cat <<TXT

  Zhongdu customer-service centre: http://$HOST:$PORT/accounts/login/
  Links sent to patients start with $PUBLIC_BASE_URL (PUBLIC_BASE_URL)
  Demo users (password: ${DEMO_PASSWORD:-see seed_demo}):
    admin       administrator          frontdesk   front desk
    consultant  consultant             clientmgr   client manager
    vipmgr      VIP manager            manager     manager
    doctor      clinician (the calling station)
  Health: http://$HOST:$PORT/healthz/    SMS are printed to this console.
  Ctrl-C stops the server, the worker and beat.

TXT
# Interrupted by a signal (its trap then runs) or when either process ends (the other is stopped).
wait -n "$SERVER" "$WORKER" || true
