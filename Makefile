# Two commands matter: `make run` and `make test`. Both install what they need first.
SHELL := /bin/bash
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := python3
UV_VERSION := 0.13.8
# Use uv from PATH when present; otherwise install the pinned uv into .tools/ (needs only pip).
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)

.PHONY: run test install lint typecheck architecture unit rulebook bench clean

.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/pip install --quiet "uv==$(UV_VERSION)"

install: $(UV)
	$(UV) sync --frozen

run: install
	$(UV) run fusionwatch assess examples/*.json

test: install lint typecheck architecture unit

lint:
	$(UV) run ruff check src tests benchmarks
	$(UV) run ruff format --check src tests benchmarks

typecheck:
	$(UV) run mypy

architecture:
	$(UV) run lint-imports

unit:
	$(UV) run pytest

rulebook: install
	$(UV) run fusionwatch rules --out docs/rulebook.md
	$(UV) run fusionwatch rules --coverage --out docs/coverage.md

bench: install
	$(UV) run python benchmarks/bench_assess.py

clean:
	rm -rf .venv .tools .pytest_cache .mypy_cache .ruff_cache
