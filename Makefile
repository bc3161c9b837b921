# The two quick-start commands: `make demo` and `make test`. Both create the virtualenv in
# .venv on first use and reuse it afterwards (it is rebuilt when pyproject.toml changes).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint typecheck unit redis bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# torch first, pinned: this exact version is the CPU build; any other pulls CUDA packages.
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	rm -rf data/demo
	ATTUNE_CONFIG=examples/demo.toml $(BIN)/attune chat --script examples/demo.jsonl

redis:
	@command -v redis-server >/dev/null 2>&1 || \
	  { [ "$$(id -u)" = 0 ] && (apt-get update -qq && apt-get install -y -qq redis-server >/dev/null) ; } || \
	  echo "redis-server not installed: the Redis tests will be skipped"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

unit: install redis
	$(BIN)/python -m pytest -q

test: lint typecheck unit

bench: install
	@for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script; done

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
