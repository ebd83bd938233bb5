# The two set-up commands: `make run` (the app on the sample district) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DB ?= var/cpted.gpkg
PORT ?= 8501
# The local demo acts for staff (status changes, exact sensitive points); see README.
STAFF_MODE ?= true

.PHONY: run test lint sample browser-assets clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

tests/browser/node_modules/.installed: tests/browser/package.json tests/browser/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "npm not found: browser tests will skip (they fail under CI)"; fi

browser-assets: tests/browser/node_modules/.installed

run: $(VENV)/.installed
	CPTED_DB_URL=$(DB) $(BIN)/cpted sample
	CPTED_DB_URL=$(DB) CPTED_STAFF_MODE=$(STAFF_MODE) $(BIN)/streamlit run app.py --server.port $(PORT)

test: $(VENV)/.installed
	-@$(MAKE) --no-print-directory browser-assets
	$(BIN)/python -m pytest

lint: $(VENV)/.installed
	$(BIN)/ruff check cpted layers app_pages tests benchmarks app.py
	$(BIN)/mypy

sample: $(VENV)/.installed
	$(BIN)/cpted sample --regenerate sample_data

clean:
	rm -rf $(VENV) var tests/browser/node_modules artifacts
