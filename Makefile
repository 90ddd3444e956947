# The two Quick start commands of README.md are `make run` and `make test`.
# Each sets everything up first (idempotent: a second run installs nothing new).
PYTHON ?= python3
PIP ?= $(PYTHON) -m pip
WORKLOAD ?= small

.PHONY: setup run test lint typecheck pytest bench

# torch is pinned and installed first so that pip takes the CPU build on this disk
# instead of resolving a multi-GB CUDA build for the project's `torch>=2.4`.
setup:
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet -e '.[dev]'

run: setup
	$(PYTHON) -m workbench.cli run --workload $(WORKLOAD)

lint:
	$(PYTHON) -m ruff check workbench tests benchmarks

typecheck:
	$(PYTHON) -m mypy --strict workbench

pytest:
	$(PYTHON) -m pytest

test: setup lint typecheck pytest

bench: setup
	$(PYTHON) benchmarks/stages.py
