# PhotoAtlas developer commands. `make app` sets up and launches; `make test` sets up and runs every test;
# `make test-fast` is the edit loop (engine tests without the slow ones); `make lint` is what CI checks besides tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The environment is rebuilt when pyproject.toml changes (its hash names the stamp).
STAMP := $(VENV)/.installed-$(shell $(PYTHON) -c "import hashlib,sys;print(hashlib.sha256(open('pyproject.toml','rb').read()).hexdigest()[:16])")

.PHONY: install app test test-fast lint format bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $@

app: install
	$(BIN)/photoatlas

test: install
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest

test-fast: install
	$(BIN)/python -m pytest tests/engine -m "not slow"

# Style, formatting (ruff is pinned in pyproject.toml) and the import contracts ([tool.importlinter]):
# all three run, so one report shows every problem; it fails if any of them fails.
lint: install
	@status=0; \
	$(BIN)/ruff check . || status=1; \
	$(BIN)/ruff format --check . || status=1; \
	$(BIN)/lint-imports --no-cache || status=1; \
	exit $$status

format: install
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

bench: install
	$(BIN)/python bench/embed_throughput.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache .import_linter_cache
