# The two commands of the README: `make run` and `make test`. Both work on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
HOST ?= localhost
PORT ?= 5000

.PHONY: run test lint install static clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Re-install whenever the pinned dependencies change.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

# Lighthouse for tests/browser/test_looks.py, pinned by its package-lock.json; where there is no
# npm the test is skipped (in CI it fails instead).
NPM := $(shell command -v npm 2>/dev/null)
LIGHTHOUSE := tests/lighthouse/node_modules/.package-lock.json
$(LIGHTHOUSE): tests/lighthouse/package-lock.json
	cd tests/lighthouse && npm ci --no-audit --no-fund --silent

## static: write the content-hashed static files, their brotli and gzip copies and the manifest (app/build/static)
static: $(VENV)/.installed
	$(BIN)/python -m app.static_build

## run: set up, migrate the SQLite database in instance/, seed the demo, serve on http://localhost:5000
## with a Celery worker and beat beside gunicorn (the Procfile; tasks go through a SQLite file in instance/)
## (PORT=5310 serves on another port; the printed links follow it unless BASE_URL is set)
run: export FLASK_DEBUG = 1
run: export BASE_URL ?= http://$(HOST):$(PORT)
run: export TWOWAY_BIND = $(HOST):$(PORT)
run: $(VENV)/.installed static
	$(FLASK) db upgrade
	$(FLASK) demo --if-empty
	@echo "\nTwoway is starting at http://$(HOST):$(PORT) with a worker and beat (Ctrl-C stops all three). Open one of the links above."
	$(BIN)/honcho start --procfile Procfile

## test: install the test extras and run the whole suite, one pytest-xdist worker per CPU (each with a
## database of its own, the browser tests all on one); PYTEST_ARGS to narrow it, PYTEST_WORKERS=0 for one process
PYTEST_WORKERS ?= auto
# Where PYTHONDONTWRITEBYTECODE is set (our machines set it), pytest can't keep its
# rewritten test modules: every worker would parse and compile the whole suite again, every run.
test: export PYTHONDONTWRITEBYTECODE =
test: $(VENV)/.installed-test static $(if $(NPM),$(LIGHTHOUSE))
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

## lint: ruff's checks and its formatter, as CI runs them
lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) .pytest_cache
