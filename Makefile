# The two commands of the README: `make demo` and `make test` (plus `make check`, the quick
# inner loop while developing). Everything they need is installed from here, into .venv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# pytest-xdist: one worker per core (3 was no faster than 2 on the 2-core machines); one file
# per worker at a time, so module fixtures are built once; files with slow tests go first.
WORKERS ?= auto
PYTEST_PARALLEL := -n $(WORKERS) --dist loadfile --no-loadscope-reorder
# Where PYTHONDONTWRITEBYTECODE is set, every process the suite starts (workers, servers, CLIs)
# would compile src/ again and rewrite the tests' asserts again: let them cache bytecode.
PYTEST := PYTHONDONTWRITEBYTECODE= $(BIN)/pytest

.PHONY: demo test check install dev lint typecheck bench clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "empreinte needs Python >= 3.11"' \
		|| { echo "error: $(PYTHON) is older than 3.11; set PYTHON=python3.11 (or newer)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.dev-installed: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[dev]'
	@# The Spark parity tests need Java 17+: install it where it is missing (Debian/Ubuntu).
	@command -v java >/dev/null 2>&1 || { \
		echo "java not found: installing openjdk-17-jre-headless for the Spark tests"; \
		SUDO=$$(command -v sudo >/dev/null 2>&1 && [ "$$(id -u)" != 0 ] && echo sudo); \
		$$SUDO apt-get update && $$SUDO apt-get install -y openjdk-17-jre-headless; }
	@# The dashboard's browser tests drive Debian's Chromium (Playwright's own download does not
	@# work without the internet): install it where it is missing.
	@test -x /usr/bin/chromium || { \
		echo "chromium not found: installing Debian's chromium for the dashboard tests"; \
		SUDO=$$(command -v sudo >/dev/null 2>&1 && [ "$$(id -u)" != 0 ] && echo sudo); \
		$$SUDO apt-get update && $$SUDO apt-get install -y chromium; }
	@touch $@

install: $(VENV)/.installed

dev: $(VENV)/.dev-installed

## Generate the demo data into ./demo-workspace and serve it on http://127.0.0.1:8000
demo: install
	$(BIN)/empreinte demo

## Lint, type-check and run the whole test suite (slow tests included), in parallel; the ten
## slowest tests are listed at the end
test: dev lint typecheck
	EMPREINTE_HYPOTHESIS=suite $(PYTEST) $(PYTEST_PARALLEL) --durations=10

## The quick inner loop: lint, then every test not marked slow or spark, in parallel, stopping at the
## first failure (no format check or mypy: `make test` runs them)
check: dev
	$(BIN)/ruff check src tests bench
	$(PYTEST) $(PYTEST_PARALLEL) -m "not slow and not spark" -x

lint: dev
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: dev
	$(BIN)/mypy

## Benchmarks (not tests): print figures and ratios against a reference measured in the same run
bench: dev
	$(BIN)/python bench/ingest.py

clean:
	rm -rf $(VENV) demo-workspace .pytest_cache .mypy_cache .ruff_cache
