# The two set-up commands: `make run` (the app on the sample district) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DB ?= var/cpted.gpkg
PORT ?= 8501
# The local demo acts for staff (status changes, exact sensitive points); see README.
STAFF_MODE ?= true

.PHONY: run test lint sample web-assets messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev,cluster]"
	touch $@

# The front-end files every map loads, served by the app itself (cpted/maps/assets.py).
cpted/web/node_modules/.installed: cpted/web/package.json cpted/web/package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "npm is needed to install the map files: apt-get install npm"; exit 1; }
	npm ci --prefix cpted/web --no-audit --no-fund --loglevel=error
	touch $@

web-assets: cpted/web/node_modules/.installed


run: $(VENV)/.installed web-assets
	CPTED_DB_URL=$(DB) $(BIN)/cpted sample
	CPTED_DB_URL=$(DB) CPTED_STAFF_MODE=$(STAFF_MODE) $(BIN)/streamlit run server.py --server.port $(PORT)

test: $(VENV)/.installed web-assets
	$(BIN)/python -m pytest

lint: $(VENV)/.installed
	$(BIN)/ruff check cpted layers app_pages tests benchmarks app.py server.py
	$(BIN)/mypy

# The catalogue template from the code and data (babel.cfg), then every language's
# catalogue brought up to it (new texts empty, for the translator; see README, Languages).
messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg --no-location --omit-header \
	    --add-comments=TRANSLATORS -k _ -k ngettext:1,2 -k N_ -o cpted/locale/cpted.pot .
	$(BIN)/pybabel update -i cpted/locale/cpted.pot -d cpted/locale -D cpted \
	    --ignore-obsolete --no-fuzzy-matching

sample: $(VENV)/.installed
	$(BIN)/cpted sample --regenerate sample_data

clean:
	rm -rf $(VENV) var cpted/web/node_modules artifacts
