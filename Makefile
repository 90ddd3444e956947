# The two Quick start commands of README.md are `make run` and `make test`. Each first sets up
# the project's own virtual environment, .venv, made with $(PYTHON) and installed from
# requirements/lock.txt (every package pinned); a second run installs nothing.
PYTHON ?= python3
VENV ?= .venv
LOCK := requirements/lock.txt
# The CPU builds of torch (versions ending in "+cpu"); PyPI's Linux wheel brings CUDA.
TORCH_CPU_INDEX ?= https://download.pytorch.org/whl/cpu
# Empty: the project's default workload ([tool.workbench] in pyproject.toml: tiny).
WORKLOAD ?=

PY := $(VENV)/bin/python
PIP := $(PY) -m pip
# Every recipe runs as if the environment were activated (its `workbench`, `python`, ...).
export VIRTUAL_ENV := $(abspath $(VENV))
export PATH := $(VIRTUAL_ENV)/bin:$(PATH)

.PHONY: setup setup-run browser valgrind run lab test test-fast test-busy test-install lint \
	typecheck pytest bench check lock

# A new venv holds the setuptools its Python bundles; the lock's replaces it (torch needs it
# at run time, and an older one would make the environment differ from the lock).
$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet -c $(LOCK) setuptools

# torch first, alone: the CPU build the lock pins, taken from an index or find-links pip
# already uses when one has it, else from PyTorch's CPU index (TORCH_CPU_INDEX).
$(VENV)/.torch: $(LOCK) | $(PY)
	$(PIP) install --quiet --no-deps -c $(LOCK) torch 2>/dev/null \
	  || $(PIP) install --quiet --no-deps --index-url $(TORCH_CPU_INDEX) -c $(LOCK) torch
	touch $@

# Numba compiles the native variants' kernels on their first call and caches them beside
# the code: compiled once at setup (a few seconds), not by the first report's workers.
WARM_NATIVE = $(PY) -m workbench run --all native > /dev/null

# The main job's packages: the project with all its features, without the dev tools.
$(VENV)/.run: $(LOCK) pyproject.toml $(VENV)/.torch
	$(PIP) install --quiet -c $(LOCK) -e '.[all]'
	$(WARM_NATIVE)
	touch $@

# Everything, dev tools (pytest, ruff, mypy, Playwright, benchmark baselines) included.
$(VENV)/.dev: $(LOCK) pyproject.toml $(VENV)/.torch
	$(PIP) install --quiet -c $(LOCK) -e '.[dev]'
	$(WARM_NATIVE)
	touch $@

setup-run: $(VENV)/.run
setup: $(VENV)/.dev

# Debian's chromium for the browser tests (Playwright drives it; nothing is downloaded),
# installed with apt-get where that is possible (root). Elsewhere the browser tests skip and
# say why, unless WORKBENCH_REQUIRE_TOOLS=1 (CI) makes a missing browser a failure.
browser:
	@test -x /usr/lib/chromium/chromium || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && apt-get install -y -qq chromium; \
	  else echo "make: no Chromium at /usr/lib/chromium/chromium and no root to apt-get it:" \
	            "the browser tests will skip" >&2; fi; }

# Valgrind for the instruction counts (Cachegrind), the same way: the budgets' instruction
# rules need it (without it they fail with exit 3); their tests skip without it.
valgrind:
	@command -v valgrind >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && apt-get install -y -qq valgrind; \
	  else echo "make: no valgrind on PATH and no root to apt-get it: instruction counts" \
	            "(and budgets.toml's instruction rules) will fail" >&2; fi; }

# The main job: the report notebooks run by papermill into reports/<UTC time>-<sha>/;
# prints the path of the index it wrote (reports/index.html lists every run).
run: setup-run valgrind
	$(PY) -m workbench report $(if $(WORKLOAD),--workload $(WORKLOAD))

# JupyterLab on the notebooks (the panel, the magics, your own pipeline).
lab: setup-run
	$(PY) -m jupyterlab --notebook-dir=notebooks

# ruff, then the import contracts of pyproject.toml (the layers of docs/architecture.md,
# no import circles): an import that points up a layer fails the build.
lint: setup
	$(PY) -m ruff check workbench tests benchmarks
	$(VENV)/bin/lint-imports

typecheck: setup
	$(PY) -m mypy --strict workbench

# pytest-xdist workers: one per CPU, at most 4 (each may hold a model, a kernel or a
# browser).
JOBS ?= $(shell n=$$(nproc 2>/dev/null || echo 1); echo $$(( n < 4 ? n : 4 )))
# Extra pytest arguments, e.g. PYTEST_ARGS="--durations=20".
PYTEST_ARGS ?=
# pytest exits 5 when it collected no tests: a suite that runs nothing proves nothing, so
# that is a failure too.
define run_pytest
$(PY) -m pytest $(1) $(PYTEST_ARGS); rc=$$?; \
if [ $$rc -eq 5 ]; then echo "pytest collected no tests (exit 5)" >&2; rc=1; fi; exit $$rc
endef

# Every test but the fresh-venv install, on $(JOBS) pytest-xdist workers, each pinned to
# CPUs of its own; the tests marked `timing` (their assertions depend on what real
# wall-clock timings decide) run one at a time on one worker, never beside each other;
# every other test with the rest of its file (tests/conftest.py).
pytest: setup
	@$(call run_pytest,-n $(JOBS) --dist loadgroup --no-loadscope-reorder -m "not install")

test: setup browser valgrind lint typecheck pytest

# The inner loop: no browser, kernel, Valgrind, cluster or other slow test (about a
# minute); `make test` runs everything.
test-fast: setup lint
	@$(call run_pytest,-n $(JOBS) -m "not (slow or browser or kernel or valgrind or cluster or install)")

# `make test` with a neighbour keeping one CPU busy the whole time, as a laptop's browser
# would: the suite must pass on a busy machine too.
test-busy: setup
	$(PY) tests/neighbour.py -- $(MAKE) test

# A fresh virtual environment built from the lock alone runs the command line (a few
# minutes: it installs the project and its native extra). CI runs it after `make test`.
test-install: setup
	@$(call run_pytest,-p no:xdist -m install)

# Hold this commit to budgets.toml against its parent, both measured now, interleaved.
check: setup-run valgrind
	$(PY) -m workbench check --against HEAD~1 --no-progress

bench: setup
	$(PY) benchmarks/stages.py

# Regenerate the lock from pyproject.toml with pip-tools, keeping every pin that still fits
# (UPGRADE=1: the newest releases). Where no index pip uses serves torch's +cpu wheels, run
# it with PIP_EXTRA_INDEX_URL=$(TORCH_CPU_INDEX). Resolve it on the oldest Python the
# project supports (a .venv made with PYTHON=/usr/bin/python3, Debian 12's 3.11.2): some
# releases need a later 3.11 (soupsieve 3 wants 3.11.5) and would not install there.
lock: | $(PY)
	$(PIP) install --quiet pip-tools==7.6.2
	$(PY) -m piptools compile --quiet --extra dev --strip-extras --allow-unsafe \
	  --no-emit-index-url --no-emit-find-links $(if $(UPGRADE),--upgrade) \
	  -o $(LOCK) pyproject.toml
	# The project's own extras name it (funcpipe-workbench[all]): not a pin, drop it.
	sed -i '/^funcpipe-workbench @ /,+1d' $(LOCK)
