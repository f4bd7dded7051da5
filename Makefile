# The README's two commands: `make demo` and `make test`. Only Python 3.11+ and make needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo app test test-slow check bench lint format clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed $(VENV)/.installed-app

demo: $(VENV)/.installed
	$(BIN)/marketsim run scenarios/default.yaml --out results/default

$(VENV)/.installed-app: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[app]'
	touch $@ $(VENV)/.installed

# the what-if app on http://127.0.0.1:8765/ (SCENARIO=name or path)
app: $(VENV)/.installed-app
	$(BIN)/marketsim app $(SCENARIO)

# the browser tests drive /usr/bin/chromium (apt-get install chromium chromium-driver; .ci/run
# installs it); MARKETSIM_NO_BROWSER=1 skips them on purpose
# the suite on one process per core, at most 4 (pytest-xdist; each test stays self-contained:
# services on free loopback ports, files in its own tmp_path)
test: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -n auto --maxprocesses 4
	$(BIN)/marketsim check

test-slow: $(VENV)/.installed-test
	$(BIN)/python -m pytest -m slow

# the whole validation suite: facts and lever directions too (minutes; exit 1 while some fail)
check: $(VENV)/.installed-test
	$(BIN)/marketsim check --full --out results/check

bench: $(VENV)/.installed-test
	$(BIN)/python -m benchmarks.run

lint: $(VENV)/.installed-test
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) results .pytest_cache
