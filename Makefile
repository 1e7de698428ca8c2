# One entry point for people and CI. Each target creates .venv on first use.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: serve test lint bench clean

$(BIN)/assist: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	@touch $@

serve: $(BIN)/assist
	$(BIN)/assist serve

lint: $(BIN)/assist
	$(BIN)/ruff check assist tests bench
	$(BIN)/ruff format --check assist tests bench
	$(BIN)/mypy

test: $(BIN)/assist lint
	$(BIN)/pytest -q -n auto --maxprocesses 4 --dist loadfile --no-loadscope-reorder

bench: $(BIN)/assist
	$(BIN)/python -m bench.classify
	$(BIN)/python -m bench.training
	$(BIN)/python -m bench.connections

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
