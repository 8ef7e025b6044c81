# The two commands of the README's quick start: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
DEMO_PASSWORD ?= zhongdu-demo-2026
HOST ?= 127.0.0.1
PORT ?= 8000
# Survey links, the visit slip's QR code and Twilio's callbacks are built on it: by default the
# address `make run` serves at (`make run PORT=8101` sends links to :8101).
PUBLIC_BASE_URL ?= http://$(HOST):$(PORT)

.PHONY: install run test lint format messages clean bench bench-http bench-sms bench-voice bench-portal

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Re-installs only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed

## Run the application with demo data: web server + Celery worker and beat (embedded broker and
## SQLite unless DATABASE_URL / CELERY_BROKER_URL say otherwise). SMS are printed to the console.
## Ctrl-C stops all three within a few seconds.
run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py install_schedules
	PUBLIC_BASE_URL="$(PUBLIC_BASE_URL)" $(BIN)/python manage.py seed_demo --password "$(DEMO_PASSWORD)"
	BIN=$(BIN) HOST=$(HOST) PORT=$(PORT) PUBLIC_BASE_URL="$(PUBLIC_BASE_URL)" DEMO_PASSWORD="$(DEMO_PASSWORD)" bash scripts/run-dev.sh

## The whole test suite (SQLite and an in-process broker unless DATABASE_URL / CELERY_BROKER_URL
## point at Postgres and Redis): most tests over TEST_PROCESSES processes, then the browser and
## real-worker tests one at a time (scripts/test.sh).
TEST_PROCESSES ?= auto
test: install
	PYTEST=$(BIN)/pytest TEST_PROCESSES=$(TEST_PROCESSES) bash scripts/test.sh $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## Time client search and the client page at $(BENCH_CLIENTS) clients, seeding the missing ones
## (README, "Benchmark"). The issue's figures are at 1,000,000 clients on Postgres:
##   DATABASE_URL=postgres://postgres@127.0.0.1:5432/zhongdu_bench make bench BENCH_CLIENTS=1000000
BENCH_CLIENTS ?= 100000
.PHONY: bench
bench: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py bench_clients --clients $(BENCH_CLIENTS)

## The same pages over HTTP: gunicorn for the product and for the floor (demo/floor), driven by
## Debian's wrk at BENCH_CONNECTIONS connections (installed here if missing; README, "Benchmark").
BENCH_CONNECTIONS ?= 8
BENCH_SECONDS ?= 10
.PHONY: bench-http
bench-http: install
	@command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py bench_http --clients $(BENCH_CLIENTS) --connections $(BENCH_CONNECTIONS) --seconds $(BENCH_SECONDS)

## The team report of an enterprise's exam round at BENCH_EMPLOYEES employees (two released rounds,
## built once by bulk inserts), beside the home page; the target is p95 under 500 ms on Postgres:
##   DATABASE_URL=postgres://postgres@127.0.0.1:5432/zhongdu_bench make bench-team-report
BENCH_EMPLOYEES ?= 5000
.PHONY: bench-team-report
bench-team-report: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py bench_team_report --employees $(BENCH_EMPLOYEES)

## The patient portal's sign-in (asking for a code, entering it) and home page at $(BENCH_CLIENTS)
## clients, each request as another client; the target is p95 under 50 ms at 1,000,000 clients:
##   DATABASE_URL=postgres://postgres@127.0.0.1:5432/zhongdu_bench make bench-portal BENCH_CLIENTS=1000000
.PHONY: bench-portal
bench-portal: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py bench_portal --clients $(BENCH_CLIENTS)

## Extract new msgids into the Chinese catalogue and compile it (needs GNU gettext).
messages: install
	$(BIN)/python manage.py makemessages -l zh_Hans --no-obsolete --ignore=.venv --ignore=var --ignore=tests
	$(BIN)/python manage.py compilemessages -l zh_Hans --ignore=.venv

clean:
	rm -rf $(VENV) var

## SMS throughput from pending to sent (needs DATABASE_URL on Postgres and CELERY_BROKER_URL on
## Redis; see README.md).
bench-sms: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python scripts/bench_sms.py --messages $(BENCH_MESSAGES) --concurrency $(BENCH_CONCURRENCY)

bench-voice: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python scripts/bench_voice.py --calls $(BENCH_MESSAGES) --concurrency $(BENCH_CONCURRENCY)

BENCH_MESSAGES ?= 2000
BENCH_CONCURRENCY ?= 8
