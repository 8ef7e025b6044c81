#!/usr/bin/env bash
# Starts a Celery worker with embedded beat in the background and the Django development server
# in the foreground; Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
mkdir -p var/broker/out var/broker/processed

"$BIN/celery" -A config worker --beat --loglevel=INFO --concurrency=2 &
WORKER=$!
trap 'kill $WORKER 2>/dev/null; wait $WORKER 2>/dev/null' EXIT INT TERM

cat <<TXT

  Zhongdu customer-service centre: http://$HOST:$PORT/accounts/login/
  Demo users (password: ${DEMO_PASSWORD:-see seed_demo}):
    admin       administrator          frontdesk   front desk
    consultant  consultant             clientmgr   client manager
    vipmgr      VIP manager            manager     manager
  Health: http://$HOST:$PORT/healthz/    SMS are printed to this console.

TXT
"$BIN/python" manage.py runserver "$HOST:$PORT"
