# One obvious command per job. `make dossier` and `make test` are the README's two commands.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
SAMPLE ?= sample_data/2026Q3
OUT    ?= out/sample

.PHONY: install dossier test lint typecheck unit sample bench bench-detection clean

$(BIN)/forensics: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/forensics

dossier: install
	$(BIN)/forensics run $(SAMPLE)/data --out $(OUT) --force
	@echo "dossier: $(OUT)/dossier.pdf"

lint: install
	$(BIN)/ruff check forensics tests bench

typecheck: install
	$(BIN)/mypy

unit: install
	$(BIN)/pytest

test: lint typecheck unit

sample: install
	$(BIN)/forensics sample $(SAMPLE) --seed 7 --scale 0.5 --long-prompts --force

bench: install
	$(BIN)/python -m bench --sizes 100000,1000000

bench-detection: install
	$(BIN)/python -m bench.detection

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
