# Two entry points a fresh machine needs: `make demo` and `make test` (both idempotent).
# Everything installs into ./.venv; nothing outside the checkout is touched.

PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 \
	&& { command -v $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
OUT := out

.PHONY: install demo test lint typecheck unit bench bench-quick bench-assess bench-models bench-differential bench-data bench-data-integrity bench-encryption bench-ledger bench-signing bench-server bench-runtime bench-repo bench-osv bench-robustness clean

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "Custos needs Python 3.11 or newer on PATH" >&2; exit 2; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

install: $(STAMP)

# Test-only: real torch.save / torch.jit.save files for the model scanner's benign-file tests.
# 2.13.0 is the CPU build this machine kind keeps on disk; `make test TORCH_SPEC=` skips it
# (the torch tests then skip loudly, or fail under CI=true).
TORCH_SPEC ?= torch==2.13.0
TORCH_STAMP := $(VENV)/.torch

$(TORCH_STAMP): $(STAMP)
	@if [ -n "$(TORCH_SPEC)" ]; then \
		$(BIN)/python -m pip install --quiet --disable-pip-version-check "$(TORCH_SPEC)"; fi
	@touch $@

EXAMPLE := examples/fraud-detection

demo: $(STAMP)
	$(BIN)/custos scan $(EXAMPLE)
	$(BIN)/custos assess $(EXAMPLE)
	$(BIN)/custos report $(EXAMPLE) --format html --out $(OUT)/fraud-detection-report.html
	$(BIN)/custos report $(EXAMPLE) --format xlsx --out $(OUT)/fraud-detection-soa.xlsx
	@echo "HTML report: $(CURDIR)/$(OUT)/fraud-detection-report.html"

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts
	$(BIN)/lint-imports --no-cache

typecheck: $(STAMP)
	$(BIN)/mypy src

unit: $(STAMP) $(TORCH_STAMP)
	@scripts/ensure-services.sh
	$(BIN)/python -m pytest -n auto

test: lint typecheck unit

# Every benchmark, one after the other, ending with one table (figure, Custos, peer, ratio,
# goal, met?) that is also written into docs/benchmarks.md; each JSON kept under .data/results.
# The bench-* targets below run one benchmark with its full human-readable output.
bench: $(STAMP) $(TORCH_STAMP)
	$(BIN)/python benchmarks/summary.py --write docs/benchmarks.md --save benchmarks/.data/results

# Each benchmark's few-second run (what the tests run): the harness works, figures mean nothing.
bench-quick: $(STAMP)
	$(BIN)/python benchmarks/summary.py --quick

bench-assess: $(STAMP)
	$(BIN)/python benchmarks/assess_scale.py

bench-models: $(STAMP)
	$(BIN)/python benchmarks/model_scan.py

# Custos and every peer scanner on one labelled corpus (the real libraries write it: torch).
bench-differential: $(STAMP) $(TORCH_STAMP)
	$(BIN)/python benchmarks/differential.py

# The data scanner against presidio-analyzer (installed into benchmarks/.venv-presidio).
bench-data: $(STAMP)
	$(BIN)/python benchmarks/data.py

# custos data-integrity on a 100k-row, 20-column CSV with planted problems (goal <= 10 s).
bench-data-integrity: $(STAMP)
	$(BIN)/python benchmarks/data_integrity.py

# custos encrypt/decrypt against age (pyrage, installed into benchmarks/.venv-age).
bench-encryption: $(STAMP)
	$(BIN)/python benchmarks/encryption.py

bench-ledger: $(STAMP)
	$(BIN)/python benchmarks/ledger.py
	$(BIN)/python benchmarks/ledger_core.py

bench-signing: $(STAMP)
	$(BIN)/python benchmarks/signing.py

# custos monitor on a generated 2M-row JSONL access log against a straightforward pandas
# implementation of its rate and duplicate detections (goals >= 500k rows/s and >= 5x pandas).
bench-runtime: $(STAMP)
	$(BIN)/python benchmarks/runtime.py

# custos scan-repo on a generated 2,000-file repository with planted ML sinks against bandit
# (installed into benchmarks/.venv-bandit): goals >= 3x bandit's speed and at least its recall.
bench-repo: $(STAMP)
	$(BIN)/python benchmarks/repo_scan.py

# OSV matching: 100k advisories x 1,000 pinned dependencies (goal <= 2 s).
bench-robustness: $(STAMP)
	$(BIN)/python benchmarks/robustness.py

bench-osv: $(STAMP)
	$(BIN)/python benchmarks/osv_match.py

bench-server: $(STAMP)
	$(BIN)/python benchmarks/server.py

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache .mypy_cache .ruff_cache
