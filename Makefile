# The two Quick start commands of README.md are `make run` and `make test`.
# Each sets everything up first (idempotent: a second run installs nothing new).
PYTHON ?= python3
PIP ?= $(PYTHON) -m pip
# Empty: the project's default workload ([tool.workbench] in pyproject.toml: tiny).
WORKLOAD ?=

.PHONY: setup browser valgrind run lab test lint typecheck pytest bench check

# torch is pinned and installed first so that pip takes the CPU build on this disk
# instead of resolving a multi-GB CUDA build for the project's `torch>=2.4`.
setup:
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet -e '.[dev]'

# Debian's chromium for the browser tests (Playwright drives it; nothing is downloaded).
browser:
	test -x /usr/lib/chromium/chromium || { apt-get update -qq && apt-get install -y -qq chromium; }

# Valgrind for the instruction counts (Cachegrind): the budgets' instruction rules and
# their tests need it.
valgrind:
	command -v valgrind >/dev/null || { apt-get update -qq && apt-get install -y -qq valgrind; }

# The main job: the report notebooks run by papermill into reports/<UTC time>-<sha>/;
# prints the path of the index it wrote (reports/index.html lists every run).
run: setup valgrind
	$(PYTHON) -m workbench.cli report $(if $(WORKLOAD),--workload $(WORKLOAD))

# JupyterLab on the notebooks (the panel, the magics, your own pipeline).
lab: setup
	$(PYTHON) -m jupyterlab --notebook-dir=notebooks

lint:
	$(PYTHON) -m ruff check workbench tests benchmarks

typecheck:
	$(PYTHON) -m mypy --strict workbench

# pytest exits 5 when it collected no tests: a suite that runs nothing proves nothing.
pytest:
	$(PYTHON) -m pytest; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests (exit 5)" >&2; exit 1; fi; \
	exit $$rc

test: setup browser valgrind lint typecheck pytest

# Hold this commit to budgets.toml against its parent, both measured now, interleaved.
check: setup valgrind
	$(PYTHON) -m workbench.cli check --against HEAD~1 --no-progress

bench: setup
	$(PYTHON) benchmarks/stages.py
