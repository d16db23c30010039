# The single source of commands for people and CI. Needs only python3 (>=3.11) and make.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
NENGLI := $(VENV)/bin/nengli
DEMO_DIR ?= var/demo
DEMO_TEACHERS ?= 3000
DEMO_SCHOOLS ?= 40
# Test processes (pytest-xdist, a whole test file per process): the CI machine has 2 cores.
TEST_WORKERS ?= 2

.PHONY: install demo test lint bench docs-assets clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

demo: $(VENV)/.installed
	$(PY) -m service.demo --dir $(DEMO_DIR) --teachers $(DEMO_TEACHERS) --schools $(DEMO_SCHOOLS)

test: $(VENV)/.installed
	$(PY) -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist loadfile --durations=15 tests --nbmake notebooks

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check competency_model training_data recommender service tests bench
	$(VENV)/bin/ruff format --check competency_model training_data recommender service tests bench
	$(VENV)/bin/mypy

bench: $(VENV)/.installed
	$(PY) -m bench.run_all --small

# Re-fetch the vendored Swagger UI / ReDoc files served at /docs and /redoc (npm; versions pinned
# in the script, sha256 written to service/static/docs/MANIFEST.json).
docs-assets: $(VENV)/.installed
	$(PY) scripts/fetch_docs_assets.py

clean:
	rm -rf $(VENV) var .pytest_cache
