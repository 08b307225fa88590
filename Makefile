# Two entry points a fresh machine needs: `make demo` and `make test` (both idempotent).
# Everything installs into ./.venv; nothing outside the checkout is touched.

PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
	&& { command -v $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
OUT := out

.PHONY: install demo test lint typecheck unit clean

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "Custos needs Python 3.11 or newer on PATH" >&2; exit 2; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/custos catalog frameworks
	$(BIN)/custos catalog show custos:ai:model-signing
	$(BIN)/custos catalog map custos:ai:model-signing
	$(BIN)/custos catalog export --format oscal --framework custos-ai --out $(OUT)/custos-ai.oscal.json

lint: $(STAMP)
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests

typecheck: $(STAMP)
	$(BIN)/mypy src

unit: $(STAMP)
	$(BIN)/python -m pytest

test: lint typecheck unit

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache .mypy_cache .ruff_cache
