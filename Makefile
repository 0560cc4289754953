# One obvious command per job. `make dossier` and `make test` are the README's two commands.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
SAMPLE ?= sample_data/2026Q3
OUT    ?= out/sample

.PHONY: install install-dev dossier test lint typecheck unit sample bench bench-detection clean

# The tool and its runtime dependencies only: what `make dossier` needs.
$(BIN)/forensics: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

# The test and lint tools on top, for `make test` and the benchmarks, and the spark extra
# (pyspark, sqlglot), so that the Spark parity tests run: they need Java 17 too.
$(VENV)/.dev-installed: $(BIN)/forensics pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev,spark]'
	touch $@

install: $(BIN)/forensics

install-dev: $(VENV)/.dev-installed

dossier: install
	$(BIN)/forensics run $(SAMPLE)/data --out $(OUT) --force
	@echo "dossier: $(OUT)/dossier.pdf"

lint: install-dev
	$(BIN)/ruff check forensics tests bench tools

typecheck: install-dev
	$(BIN)/mypy

# FORENSICS_REQUIRE_SPARK: a Spark test fails, not skips, where the extra or Java is missing.
unit: install-dev
	FORENSICS_REQUIRE_SPARK=1 $(BIN)/pytest

test: lint typecheck unit

sample: install
	$(BIN)/forensics sample $(SAMPLE) --seed 7 --scale 0.5 --long-prompts --force

bench: install-dev
	$(BIN)/python -m bench --sizes 100000,1000000

bench-detection: install-dev
	$(BIN)/python -m bench.detection

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
