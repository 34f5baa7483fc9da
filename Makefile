# fitgen-kit: `make lab` to learn, `make test` to check. Both bootstrap .venv and the offline data.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.fitgen-installed
CONSTRAINTS := .ci/constraints.txt
KERNEL := fitgen-kit
LAB_ARGS ?=
# Jupyter refuses to run as root (containers, CI) unless told; ordinary users get no extra flag.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)
NOTEBOOKS := $(sort $(wildcard notebooks/*.ipynb))
DATASETS := shapes arrows
# Where the lessons read data: $FITGEN_DATA if set (relative paths are relative to this folder), else data/.
DATA_DIR := $(or $(FITGEN_DATA),data)
DATA_SOURCES := data_scripts/make_shapes.py helpers/shapes.py helpers/datasets.py
PYTEST_NOTEBOOKS := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg
# The browser test needs Debian's chromium (.ci/run installs it); without one, make test says so and leaves it out.
CHROMIUM := $(shell command -v chromium || command -v chromium-browser)
BROWSER_TESTS := $(if $(CHROMIUM),,--ignore=tests/browser)

# make test-tools drives real outside tools from the package index, each in its own environment under .cache/tools.
TOOLS := .cache/tools
PRE_COMMIT_VERSION := 4.7.0

.PHONY: help setup lab test test-browser test-student test-tools test-anywhere student lint unit nbval regen data bench clean

help:
	@echo "make lab     set up .venv and data, open JupyterLab on the lessons (LAB_ARGS=... passes through)"
	@echo "make test    set up, then ruff, unit tests, strict nbval on notebooks/ and (with chromium) the browser test"
	@echo "make test-browser  the lessons in headless Chromium: runs lesson 02, moves the widgets, takes screenshots"
	@echo "make test-student  execute every lesson's student copy (slow; .ci/run runs it after make test)"
	@echo "make test-tools    run fitgen-check's pre-commit hooks with the real pre-commit (.ci/run runs it)"
	@echo "make test-anywhere the lessons on other CPUs, alone, empty cache, other seeds, busy machine (slow; .ci/run runs it)"
	@echo "make student build student copies of the lessons into student/ (solutions replaced by placeholders)"
	@echo "make regen   re-execute the notebooks and write byte-stable outputs (after editing a lesson)"
	@echo "make data    build the offline datasets under data/"
	@echo "make bench   images/s of each input pipeline on this machine, and one training epoch fed by each"
	@echo "make clean   remove .venv (data/ stays; make_shapes.py rebuilds it when its code changes)"

setup: $(STAMP)

# (Re)create the venv whenever pyproject.toml or the constraints change, so it never drifts from the pins.
$(STAMP): pyproject.toml $(CONSTRAINTS)
	@command -v $(PYTHON) >/dev/null || { echo "fitgen-kit needs Python 3.11: '$(PYTHON)' was not found. Install Python 3.11 or run 'make PYTHON=/path/to/python3.11 ...'." >&2; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || { echo "fitgen-kit needs Python 3.11, but $(PYTHON) is $$($(PYTHON) --version). Run 'make PYTHON=/path/to/python3.11 ...'." >&2; exit 1; }
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c $(CONSTRAINTS) -e '.[test]'
	$(BIN)/python -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python ($(KERNEL))" >/dev/null
	@touch $(STAMP)
	@echo "installed into $(VENV) ($$(du -sh $(VENV) | cut -f1)); Jupyter kernel '$(KERNEL)' registered"

data: $(foreach name,$(DATASETS),$(DATA_DIR)/$(name)/manifest.json)

# The script checks the folder itself (same settings and intact files: nothing to do); touch records the check.
$(DATA_DIR)/%/manifest.json: $(DATA_SOURCES) | $(STAMP)
	$(BIN)/python data_scripts/make_shapes.py --kind $* --out $(DATA_DIR)/$* --quiet
	@touch $@

lab: setup data
	$(BIN)/jupyter lab notebooks/00_start_here.ipynb $(ROOT_FLAG) $(LAB_ARGS)

lint: setup
	$(BIN)/ruff check helpers data_scripts tests notebooks
	$(BIN)/ruff format --check helpers data_scripts tests notebooks

unit: setup data
	$(BIN)/python -m pytest tests -m "not slow and not tools" $(BROWSER_TESTS) --durations=10

nbval: setup data
	$(BIN)/python -m pytest notebooks $(PYTEST_NOTEBOOKS) --durations=10

test: setup data lint
	@$(if $(CHROMIUM),,echo "make test: no chromium found, so the browser test is left out (sudo apt-get install chromium)")
	$(BIN)/python tests/run_suites.py $(if $(CHROMIUM),--browser) \
		-- tests -m "not slow and not tools" --durations=10 \
		-- notebooks $(PYTEST_NOTEBOOKS) -p tests.notebook_budget --durations=10

test-browser: setup data
	$(BIN)/python -m pytest tests/browser --durations=5

test-student: setup data
	$(BIN)/python -m pytest tests/test_student.py -m slow --durations=10

$(TOOLS)/bin/pre-commit:
	rm -rf $(TOOLS)
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check pre-commit==$(PRE_COMMIT_VERSION)

test-tools: setup $(TOOLS)/bin/pre-commit
	$(BIN)/python -m pytest tests/test_precommit_hook.py -m tools --durations=5

# Slow (about 20 minutes on 2 cores): every lesson alone with an empty FITGEN_CACHE in reverse order, on the AVX2 and
# SSE4.1 instruction sets and without oneDNN (strict), and with two other seeds on a busy machine (lax).
test-anywhere: setup data
	$(BIN)/python tests/run_anywhere.py $(ANYWHERE_RUNS)

student: setup
	$(BIN)/python tests/make_student.py --out student $(NOTEBOOKS)

regen: setup data
	$(BIN)/python tests/regen_notebooks.py $(NOTEBOOKS)

# Not part of make test: timings are this machine's, printed and written to .cache/bench.json.
bench: setup data
	$(BIN)/python -m helpers.bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) *.egg-info
