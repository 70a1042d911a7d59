# One entry point for people and CI. `make test` is the command .ci/run calls.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: install run test check lint typecheck format bench openapi migrate clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,test]"
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

run: install  ## the whole stack: database, Redis, API, worker, sandbox, demo tenant (extra `dev`)
	$(BIN)/wallguard dev

test: install  ## every test, against real PostgreSQL and Redis
	$(BIN)/pytest

check: install  ## format check, lint, strict typing, import contracts (what .ci/run runs first)
	$(BIN)/ruff format --check service migrations tests bench
	$(BIN)/ruff check service migrations tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff format service migrations tests bench
	$(BIN)/ruff check --fix service migrations tests bench

bench: install  ## benchmarks; figures go to bench/README.md
	$(BIN)/python -m pip install --quiet -e ".[dev,test,bench]"
	$(BIN)/python -m bench.detection.run

openapi: install  ## regenerate openapi/openapi.json from the app
	$(BIN)/wallguard openapi

migrate: install
	$(BIN)/wallguard migrate

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
