# Shebao: `make demo` runs the product with demo data; `make test` runs every test suite.
# Every target is idempotent: running it twice is safe.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Parallel workers for the unit suites (pytest-xdist); `make test XDIST=` runs serially.
XDIST ?= -n 2
PG_TEST_DB ?= $(or $(TEST_DATABASE_NAME),test_shebao)
VAR_DIR := $(or $(SHEBAO_VAR_DIR),var)

# The instant of the suite's second run on SQLite (UTC): 00:30 on 1 January in China while
# UTC is still in December, the hours a server in UTC gets the year wrong.
MOVED_CLOCK ?= 2026-12-31 16:30:00

.PHONY: help venv system-deps fonts demo test test-sqlite test-sqlite-moved-clock test-postgres test-browser \
	migrations-check lint lint-imports

help:
	@echo "make demo   - install, migrate, load demo data and run http://127.0.0.1:8000 (web + workers)"
	@echo "make test   - install test dependencies and run the SQLite, PostgreSQL and browser suites"
	@echo "make lint   - ruff (rules and formatting), mypy, import contracts (the first stage of make test)"

venv:
	@PYTHON=$(PYTHON) VENV=$(VENV) bin/ensure-venv

# CJK font (PDF exports) and the libraries WeasyPrint needs.
fonts:
	@bin/system-deps

# Everything the tests need from the system: the above plus chromium and poppler-utils.
system-deps:
	@bin/system-deps --tests

demo: venv fonts
	@mkdir -p "$(VAR_DIR)"
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo --quiet-logins
	$(PY) manage.py rundemo

# The unit suite runs twice: on SQLite with the process's clock moved (a date boundary, see
# test-sqlite-moved-clock) and on PostgreSQL at the real date. `make test-sqlite` runs the
# SQLite suite at the real date too, for a quick check while working.
test: venv lint system-deps migrations-check test-sqlite-moved-clock test-postgres test-browser

# (0) Lint, before any suite: ruff's rules and formatting, the types (mypy with the Django
# plugin, configured in pyproject.toml) and, once they are written, the import contracts
# (lint-imports, when .importlinter or a [tool.importlinter] section exists). Every check
# runs, then any finding fails the make. mypy runs without its cache: the Django plugin reads
# the settings at run time, and a cached module is not checked again when only
# config/settings.py changed.
lint: venv
	@status=0; \
	echo "== lint: ruff check ."; \
	$(PY) -m ruff check . || status=1; \
	echo "== lint: ruff format --check ."; \
	$(PY) -m ruff format --check . || status=1; \
	echo "== lint: mypy (types)"; \
	$(PY) -m mypy --no-incremental || status=1; \
	if [ -f .importlinter ] || grep -E '^\[+tool\.importlinter[].]' pyproject.toml >/dev/null; then \
		echo "== lint: lint-imports (import contracts)"; \
		$(VENV)/bin/lint-imports || status=1; \
	else \
		echo "== lint: no import contracts yet (.importlinter or [tool.importlinter] in pyproject.toml)"; \
	fi; \
	if [ $$status != 0 ]; then echo "== lint FAILED: fix the findings above" >&2; fi; \
	exit $$status

migrations-check: venv
	@mkdir -p "$(VAR_DIR)"
	env -u DATABASE_URL $(PY) manage.py makemigrations --check --dry-run

# (1) The fast suite on SQLite. pytest's exit code 5 (no tests collected) fails the make.
test-sqlite: venv
	@echo "== unit suite on SQLite"
	env -u DATABASE_URL $(PY) -m pytest -m "not browser" $(XDIST)

# (1b) The same suite again with the clock of the whole process (and of every process it
# starts) moved by libfaketime, not only in the tests that pin it: nothing may depend on the
# day the suite runs. libfaketime moves the monotonic clocks by the same offset: with
# FAKETIME_DONT_FAKE_MONOTONIC=1 its clock_nanosleep turned the absolute deadlines of
# time.sleep into invalid times (EINVAL from subprocess.run(timeout=...)).
test-sqlite-moved-clock: venv system-deps
	@echo "== unit suite on SQLite at $(MOVED_CLOCK) UTC (faketime, TZ=UTC)"
	env -u DATABASE_URL TZ=UTC faketime '$(MOVED_CLOCK)' \
		$(PY) -m pytest -m "not browser" $(XDIST)

# (2) The same suite on PostgreSQL: DATABASE_URL, or a server on 127.0.0.1:5432 (started if
# installed). Without one the stage is skipped, except with CI=true where it fails.
test-postgres: venv
	@status=0; url=$$(PY=$(PY) bin/postgres-url) || status=$$?; \
	if [ $$status = 0 ]; then \
		echo "== unit suite on PostgreSQL ($$url, test database $(PG_TEST_DB))"; \
		DATABASE_URL="$$url" TEST_DATABASE_NAME="$(PG_TEST_DB)" $(PY) -m pytest -m "not browser" $(XDIST); \
	elif [ $$status = 2 ]; then \
		echo "== DATABASE_URL names a PostgreSQL server that does not answer" >&2; \
		exit 1; \
	elif [ "$${CI:-}" = "true" ]; then \
		echo "== PostgreSQL is required when CI=true, and none answers (set DATABASE_URL or start a server)" >&2; \
		exit 1; \
	else \
		echo "== PostgreSQL suite SKIPPED: no server (set DATABASE_URL or start PostgreSQL on 127.0.0.1:5432)"; \
	fi

# (3) Playwright browser tests with Debian's chromium, when there are any.
test-browser: venv system-deps
	@if compgen -G "tests/browser/test_*.py" >/dev/null; then \
		echo "== browser suite"; \
		env -u DATABASE_URL $(PY) -m pytest -m browser tests/browser; \
	else \
		echo "== browser suite: no tests in tests/browser yet"; \
	fi

# The import contracts alone (pyproject.toml [tool.importlinter]; also part of `make lint`).
lint-imports: venv
	$(VENV)/bin/lint-imports
