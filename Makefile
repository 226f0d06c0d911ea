# Two commands matter: `make run` and `make test`. Both install what they need first.
SHELL := /bin/bash
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := python3
UV_VERSION := 0.13.8
# Use uv from PATH when present; otherwise install the pinned uv into .tools/ (needs only pip).
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)

.PHONY: run test install install-run spark lint typecheck architecture unit fuzz rulebook bench bench-screen bench-startup bench-web bench-flood clean chromium postgres

.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/pip install --quiet "uv==$(UV_VERSION)"

# Bytecode is compiled at install time: some shells set PYTHONDONTWRITEBYTECODE, and without
# cached bytecode every command would compile its imports again (about 0.7 s of a cold `assess`).
export UV_COMPILE_BYTECODE := 1

# Everything: the app, the test tools and the benchmark peers.
install: $(UV)
	$(UV) sync --frozen
	.venv/bin/python -m compileall -q src

# Only what running needs (no test tools); --inexact keeps test tools a `make test` installed.
install-run: $(UV)
	$(UV) sync --frozen --no-default-groups --inexact
	.venv/bin/python -m compileall -q src

# The web app on http://127.0.0.1:8000 with an SQLite file in var/ (created and migrated on start).
run: install-run
	.venv/bin/fusionwatch serve

# make test also installs the optional Spark extra and, for it, a Java runtime when missing.
test: install spark lint typecheck architecture unit

spark: install
	$(UV) sync --frozen --extra spark
	command -v java >/dev/null || (apt-get update && apt-get install -y --no-install-recommends default-jre-headless)

lint:
	$(UV) run ruff check src tests benchmarks
	$(UV) run ruff format --check src tests benchmarks

typecheck:
	$(UV) run mypy

architecture:
	$(UV) run lint-imports

# The browser tests (tests/browser) drive Debian's Chromium; install it when it is missing.
chromium:
	command -v chromium >/dev/null || (apt-get update && apt-get install -y --no-install-recommends chromium)

# The store is also tested on a throw-away PostgreSQL cluster; install the server when missing.
postgres:
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || (apt-get update && apt-get install -y --no-install-recommends postgresql)

unit: chromium postgres
	$(UV) run pytest

# The schemathesis run alone (it is also part of `make unit`): about 1,300 requests, derandomized.
fuzz: install
	$(UV) run pytest -s tests/web/test_web_fuzz.py

rulebook: install
	$(UV) run fusionwatch rules --out docs/rulebook.md
	$(UV) run fusionwatch rules --coverage --out docs/coverage.md

bench: install
	$(UV) run python benchmarks/bench_assess.py

bench-screen: install
	$(UV) run python benchmarks/bench_screen.py

# Cold start of `fusionwatch --help` and of `assess` on one file (docs/performance.md).
bench-startup: install
	.venv/bin/python benchmarks/bench_startup.py

# Load test of the web API with wrk (from Debian's packages, installed here when missing).
bench-web: install
	command -v wrk >/dev/null || (apt-get update && apt-get install -y --no-install-recommends wrk)
	$(UV) run python benchmarks/bench_web.py

# API latency quiet vs under a PDF and sign-in flood (docs/web.md, "Flood").
bench-flood: install
	$(UV) run python benchmarks/bench_flood.py

clean:
	rm -rf .venv .tools .pytest_cache .mypy_cache .ruff_cache
