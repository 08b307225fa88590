# Two entry points a fresh machine needs: `make demo` and `make test` (both idempotent).
# Everything installs into ./.venv; nothing outside the checkout is touched.

PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
	&& { command -v $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
OUT := out

.PHONY: install demo test lint typecheck unit bench clean

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "Custos needs Python 3.11 or newer on PATH" >&2; exit 2; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

install: $(STAMP)

EXAMPLE := examples/fraud-detection

demo: $(STAMP)
	$(BIN)/custos scan $(EXAMPLE)
	$(BIN)/custos assess $(EXAMPLE)
	$(BIN)/custos report $(EXAMPLE) --format html --out $(OUT)/fraud-detection-report.html
	$(BIN)/custos report $(EXAMPLE) --format xlsx --out $(OUT)/fraud-detection-soa.xlsx
	@echo "HTML report: $(CURDIR)/$(OUT)/fraud-detection-report.html"

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy src

unit: $(STAMP)
	@scripts/ensure-services.sh
	$(BIN)/python -m pytest -n auto

test: lint typecheck unit

bench: $(STAMP)
	$(BIN)/python benchmarks/assess_scale.py

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache .mypy_cache .ruff_cache
