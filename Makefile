# Two commands on a fresh machine: `make run` (the shop) and `make test` (the suite).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# `make run PORT=8001` serves on another port; the shop's own URL, and with it the simulated
# Stripe's (STRIPE_API_BASE) and its return links, follow, unless APP_URL is given.
PORT ?= 8000
APP_URL ?= http://127.0.0.1:$(PORT)
DEV_ENV = DEBUG=true APP_URL=$(APP_URL)

.PHONY: run test faults lint format migrate demo superuser reconcile bench clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

## run: set up and serve the shop on http://127.0.0.1:8000 (SQLite, offline Stripe, demo pieces);
##      PORT=8001 for another port
run: $(VENV)/.runtime
	$(DEV_ENV) $(PY) manage.py migrate --noinput
	$(DEV_ENV) $(PY) manage.py load_demo --if-empty
	$(DEV_ENV) $(PY) manage.py runserver 127.0.0.1:$(PORT)

## test: set up and run the whole suite (PostgreSQL tests need DATABASE_URL=postgres://...)
test: $(VENV)/.dev
	@command -v chromium >/dev/null 2>&1 || sh .ci/install-chromium || true
	@sh .ci/install-vnu || true
	$(PY) -m pytest $(PYTEST_ARGS)

## faults: the shop under gunicorn while PostgreSQL, the mail server, Redis and Stripe fail (SPEC §13)
faults: $(VENV)/.dev
	$(PY) -m pytest -m faults shop/tests/faults $(PYTEST_ARGS)

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-logo

format: $(VENV)/.dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

migrate: $(VENV)/.runtime
	$(DEV_ENV) $(PY) manage.py migrate

demo: $(VENV)/.runtime
	$(DEV_ENV) $(PY) manage.py load_demo

superuser: $(VENV)/.runtime
	$(DEV_ENV) $(PY) manage.py createsuperuser

reconcile: $(VENV)/.runtime
	$(DEV_ENV) $(PY) manage.py reconcile

## bench: the shop under wrk beside a bare Django view (PostgreSQL: DATABASE_URL; see BENCHMARKS.md)
bench: $(VENV)/.dev
	@sh .ci/install-bench-tools
	$(PY) bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache staticfiles
