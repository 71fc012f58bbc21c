# Cinrella. Quick start: `make run`, `make test`. See README.md.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.12 || command -v python3 || command -v python)
# uv from PATH, or bootstrapped into .uv-bootstrap/ with pip on a machine that lacks it.
UV := $(shell command -v uv 2>/dev/null || echo .uv-bootstrap/bin/uv)
RUN := $(UV) run --frozen
# Test workers (pytest-xdist, one test database each): `make test TEST_WORKERS=0` runs in one process.
TEST_WORKERS ?= auto

.PHONY: install run test lint bench policy-report clean-db

$(UV):
	$(PYTHON) -m venv .uv-bootstrap && .uv-bootstrap/bin/pip install --quiet uv

# Where Python may not write .pyc files (PYTHONDONTWRITEBYTECODE set), every process would compile
# each library it imports from source (twilio alone is seconds): compile them once at install.
install: $(UV)
	$(UV) sync --frozen $(if $(PYTHONDONTWRITEBYTECODE),--compile-bytecode)

run: install
	$(RUN) python bin/devrun.py

# The browser tests need Debian's Chromium: installed here when missing (as root), else the command to run.
test: install
	$(RUN) python bin/ensure_browser.py
	$(RUN) pytest -n $(TEST_WORKERS)

lint: install
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) python manage.py makemigrations --check --dry-run

bench: install
	$(RUN) python bin/bench.py $(ARGS)

# For every section of the privacy policy: the rules enforcing it and the tests proving them.
policy-report: install
	$(RUN) python manage.py policy_report

clean-db:
	rm -rf .pgdata .pgdata.lock
