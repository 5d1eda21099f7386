# The README's two commands. Both work on a fresh machine with Python 3.11 and make.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
STAMP := $(VENV)/.installed

.PHONY: run test test-fast lint format clean

$(PY):
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)

# The installer: uv when it can be had (it downloads and installs in parallel: the packages
# of a fresh machine in ~12 s instead of pip's ~45 s, docs/benchmarks.md), else pip. uv comes
# from PyPI into the venv itself; WATTBIT_INSTALLER=pip forces pip.
INSTALLER ?= $(if $(filter pip,$(WATTBIT_INSTALLER)),pip,uv)

$(STAMP): pyproject.toml | $(PY)
	@if [ "$(INSTALLER)" = uv ] && { [ -x $(VENV)/bin/uv ] || $(PY) -m pip install --quiet --disable-pip-version-check uv; } \
	    && $(VENV)/bin/uv pip install --quiet --python $(PY) -e '.[dev]'; then :; else \
	  echo "installing with pip"; \
	  $(PY) -m pip install --quiet --upgrade pip && $(PY) -m pip install --quiet -e '.[dev]'; \
	fi
	touch $(STAMP)

## make run — the exchange with demo data on the embedded default (SQLite, in-process tasks)
run: export DEBUG ?= 1
run: $(STAMP)
	$(PY) manage.py migrate --noinput -v 0
	$(PY) manage.py load_demo --webhook-base http://127.0.0.1:$(PORT)
	@echo ""
	@echo "wattbit is starting at  http://127.0.0.1:$(PORT)/   (API docs: http://127.0.0.1:$(PORT)/api/docs/)"
	@echo ""
	$(PY) manage.py runexchange 127.0.0.1:$(PORT)

## make test — the whole suite (uses DATABASE_URL / REDIS_URL when set), then its 15 slowest tests.
## PYTEST_ARGS selects (CI: -m e2e / -m "not e2e").
test: $(STAMP)
	$(PY) -m pytest -q --durations=15 $(PYTEST_ARGS)

## make test-fast — the edit loop: everything but the slow, end-to-end and browser tests
test-fast: $(STAMP)
	$(PY) -m pytest -q -m "not slow and not e2e and not browser"

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) var staticfiles
