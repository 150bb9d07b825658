# Two commands on a fresh machine: `make demo` runs the sandbox, `make test` runs every check.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: install runtime demo up test lint test-sqlite test-postgres bench generate clean

RUNTIME_STAMP := $(VENV)/.runtime-stamp

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# `make demo` needs only what runs; `make test` and the tools add the `dev` extra.
# pip compiles the libraries it installs, not an editable project's own modules: compiling them
# here spares the first `dpi up` about 0.3 s of CPU (a later start reads what Python wrote).
COMPILE := $(BIN)/python -m compileall -q -j 0 services sandbox

$(RUNTIME_STAMP): pyproject.toml setup.py | $(BIN)/python
	@echo "Installing the sandbox (runtime dependencies only) into $(VENV); about a minute the first time."
	$(BIN)/python -m pip install --progress-bar on -e .
	$(COMPILE)
	touch $(RUNTIME_STAMP)

$(STAMP): pyproject.toml setup.py | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(COMPILE)
	touch $(STAMP) $(RUNTIME_STAMP)

install: $(STAMP)

runtime: $(RUNTIME_STAMP)

demo: runtime
	$(BIN)/dpi demo

up: runtime
	$(BIN)/dpi up

test: install lint test-sqlite test-postgres

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy services sandbox tests bench
	$(BIN)/lint-imports

test-sqlite: install
	$(BIN)/pytest $(PYTEST_ARGS)

test-postgres: install
	DPI_TEST_DB=postgres $(BIN)/pytest -m "not e2e or replicas" $(PYTEST_ARGS)

bench: install
	$(BIN)/python -m bench

generate: install
	$(BIN)/dpi generate

clean:
	rm -rf $(VENV) .dpi-data .pytest_cache .mypy_cache .ruff_cache .import_linter_cache .grimp_cache
