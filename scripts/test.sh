#!/usr/bin/env bash
# `make test`: the suite in two parts.
#   1. Most tests, spread over the machine's cores by pytest-xdist (each process has its own test
#      database, and its own key prefix on a Redis test broker: config/settings.py).
#   2. The tests that drive Chromium, a real Celery worker process or real gunicorn servers, one
#      at a time: their waits are meant for a machine that is not also running the rest of the
#      suite.
# Arguments go to both runs (for example a path: `make test PYTEST_ARGS=tests/consult`); a run
# that the arguments leave without tests is not a failure.
set -uo pipefail
cd "$(dirname "$0")/.."
pytest=${PYTEST:-.venv/bin/pytest}
processes=${TEST_PROCESSES:-auto}
serial="browser or worker or chaos or server"

"$pytest" -n "$processes" -m "not ($serial)" "$@"
first=$?
"$pytest" -m "$serial" "$@"
second=$?

# 5 is pytest's "no tests collected".
[ "$first" -eq 5 ] && first=0
[ "$second" -eq 5 ] && second=0
[ "$first" -eq 0 ] && [ "$second" -eq 0 ]
