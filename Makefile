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

# nbgrader (make course, make test-classroom) gets its own environment: its Jupyter pins are not the lab's.
NBGRADER_VERSION := 0.9.6
NBGRADER_ENV := .cache/nbgrader
NBGRADER_CONSTRAINTS := classroom/nbgrader-constraints.txt

# JupyterHub (make hub) gets its own Python environment and its proxy from the npm registry, both under .cache/hub.
HUB := .cache/hub
HUB_CONSTRAINTS := classroom/hub-constraints.txt
PROXY_LOCK := classroom/proxy/package.json classroom/proxy/package-lock.json

# make test-tools drives real outside tools from the package index, each in its own environment under .cache/tools.
TOOLS := .cache/tools
PRE_COMMIT_VERSION := 4.7.0

.PHONY: help kit-only setup lab test test-browser test-student test-tools test-anywhere test-classroom student course nbgrader \
	handout summary hub hub-tools lint unit nbval regen data bench clean

help:
	@echo "make lab     set up .venv and data, open JupyterLab on the lessons (LAB_ARGS=... passes through)"
	@echo "make test    set up, then ruff, unit tests, strict nbval on notebooks/ and (with chromium) the browser test"
	@echo "make test-browser  the lessons in headless Chromium: runs lesson 02, moves the widgets, takes screenshots"
	@echo "make test-student  execute every lesson's student copy (slow; .ci/run runs it after make test)"
	@echo "make test-tools    run fitgen-check's pre-commit hooks with the real pre-commit (.ci/run runs it)"
	@echo "make test-anywhere the lessons on other CPUs, alone, empty cache, other seeds, busy machine (slow; .ci/run runs it)"
	@echo "make test-classroom  every lesson through the real nbgrader, and the handout set up from scratch (slow; .ci/run)"
	@echo "make course COURSE=folder  an nbgrader course with every lesson as an assignment (installs nbgrader)"
	@echo "make handout  one archive to give students: student copies, helpers, Makefile; no solution (dist/)"
	@echo "make hub STUDENTS=\"alice bob\" [HUB_PORT=8000]  JupyterHub for a class on this server (installs it)"
	@echo "make summary  a one-page printable summary of the rules the lessons prove, measured now (dist/)"
	@echo "make student build student copies of the lessons into student/ (solutions replaced by placeholders)"
	@echo "make regen   re-execute the notebooks and write byte-stable outputs (after editing a lesson)"
	@echo "make data    build the offline datasets under data/"
	@echo "make bench   images/s of each input pipeline on this machine, and one training epoch fed by each"
	@echo "make clean   remove .venv (data/ stays; make_shapes.py rebuilds it when its code changes)"

setup: $(STAMP)

# The student handout (make handout) has no tests/, classroom/ or answer notebooks: say so instead of failing oddly.
kit-only:
	@test -d tests -a -d classroom || { echo "make: this is the student handout (no tests, no answers): use make lab" >&2; exit 1; }

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

lint: kit-only setup
	$(BIN)/ruff check helpers data_scripts classroom tests notebooks
	$(BIN)/ruff format --check helpers data_scripts classroom tests notebooks

unit: kit-only setup data
	$(BIN)/python -m pytest tests -m "not slow and not tools and not classroom" $(BROWSER_TESTS) --durations=10

nbval: kit-only setup data
	$(BIN)/python -m pytest notebooks $(PYTEST_NOTEBOOKS) --durations=10

test: kit-only setup data lint
	@$(if $(CHROMIUM),,echo "make test: no chromium found, so the browser test is left out (sudo apt-get install chromium)")
	$(BIN)/python tests/run_suites.py $(if $(CHROMIUM),--browser) \
		-- tests -m "not slow and not tools and not classroom" --durations=10 \
		-- notebooks $(PYTEST_NOTEBOOKS) -p tests.notebook_budget --durations=10

test-browser: kit-only setup data
	$(BIN)/python -m pytest tests/browser -m "not run_all" --durations=5

test-student: kit-only setup data
	$(BIN)/python -m pytest tests/test_student.py -m slow --durations=10

$(TOOLS)/bin/pre-commit:
	rm -rf $(TOOLS)
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check pre-commit==$(PRE_COMMIT_VERSION)

test-tools: kit-only setup $(TOOLS)/bin/pre-commit
	$(BIN)/python -m pytest tests/test_precommit_hook.py -m tools --durations=5

# Slow (about 20 minutes on 2 cores): every lesson alone with an empty FITGEN_CACHE in reverse order on the AVX2
# instruction set, on SSE4.1, without oneDNN (all strict), and with two other seeds on a busy machine (lax), the
# second by clicking Run All in JupyterLab in headless Chromium (the browser test's; .ci/run installs chromium).
test-anywhere: kit-only setup data
	$(BIN)/python tests/run_anywhere.py $(ANYWHERE_RUNS)

$(NBGRADER_ENV)/bin/nbgrader: $(NBGRADER_CONSTRAINTS)
	rm -rf $(NBGRADER_ENV)
	$(PYTHON) -m venv $(NBGRADER_ENV)
	$(NBGRADER_ENV)/bin/python -m pip install --quiet --disable-pip-version-check -c $(NBGRADER_CONSTRAINTS) \
		nbgrader==$(NBGRADER_VERSION)
	@touch $@

nbgrader: $(NBGRADER_ENV)/bin/nbgrader

course: kit-only setup data nbgrader
	@test -n "$(COURSE)" || { echo "make course: say where, e.g. make course COURSE=$$HOME/fitgen-course" >&2; exit 1; }
	$(BIN)/python -m classroom.course $(COURSE)

$(HUB)/python/bin/jupyterhub: $(HUB_CONSTRAINTS)
	rm -rf $(HUB)/python
	$(PYTHON) -m venv $(HUB)/python
	$(HUB)/python/bin/python -m pip install --quiet --disable-pip-version-check -c $(HUB_CONSTRAINTS) \
		jupyterhub jupyterlab jupyterlab_widgets
	@touch $@

$(HUB)/node/node_modules/.bin/configurable-http-proxy: $(PROXY_LOCK)
	@command -v npm >/dev/null || { echo "make hub: JupyterHub's proxy needs Node.js and npm (Debian: apt-get install nodejs npm)" >&2; exit 1; }
	rm -rf $(HUB)/node
	mkdir -p $(HUB)/node
	cp $(PROXY_LOCK) $(HUB)/node/
	npm ci --prefix $(HUB)/node --no-audit --no-fund --loglevel=error
	@touch $@

hub-tools: $(HUB)/python/bin/jupyterhub $(HUB)/node/node_modules/.bin/configurable-http-proxy

hub: kit-only setup data hub-tools
	$(BIN)/python -m classroom.hub $(if $(HUB_PORT),--port $(HUB_PORT)) --students "$(STUDENTS)"

test-classroom: kit-only setup data nbgrader hub-tools
	$(BIN)/python -m pytest tests/test_nbgrader.py tests/test_handout.py tests/test_summary.py tests/test_hub.py \
		-m classroom --durations=10

handout: kit-only setup
	$(BIN)/python -m classroom.handout $(if $(OUT),--out $(OUT))

summary: kit-only setup data
	$(BIN)/python -m classroom.summary

student: kit-only setup
	$(BIN)/python classroom/make_student.py --out student $(NOTEBOOKS)

regen: kit-only setup data
	$(BIN)/python tests/regen_notebooks.py $(NOTEBOOKS)

# Not part of make test: timings are this machine's, printed and written to .cache/bench.json.
bench: setup data
	$(BIN)/python -m helpers.bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) *.egg-info
