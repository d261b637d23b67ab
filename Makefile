## make labs      execute every lab into executed/ and write executed/report.html (PROFILE=smoke|quick|full|auto)
##                JOBS=N labs at once, each on cores/N threads (default 1; auto: one per core, at most 4, or 1 with a GPU)
## make test      run the test suite (what CI runs): everything, each lab executed once and shared
## make test-fast the tests that execute no notebook and install nothing (under 3 min on 2 cores: the loop for changing one helper)
## make install   create .venv and install requirements.txt (exact pins) and the package; CPU=1: CPU-only torch
## make data      get Fashion-MNIST (Debian's package where apt and root are available, else a download)
## make kernel    register .venv as the Jupyter kernel "Image-classification labs" (JupyterHub, a shared install)
## make system    install PostgreSQL's server and bubblewrap where missing (lab 13's sweep test, grading's sandbox)
## make lint      ruff over the package, the tests and the notebooks; make format fixes what it can
## make student   rewrite the blank labs (student/), every lab's install cell and times, the README's lab table
## make site      build the website into _build/site from the labs executed in quick (only changed labs re-run)
## make lowest    the lowest allowed versions (uv's lowest-direct) in .venv-lowest, then every lab in smoke with them
## make clean     remove executed/, results/ and caches
## labs and test create .venv, install and fetch the data first; a second run skips what is there.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PROFILE ?= auto
JOBS ?= 1
OUT ?= executed
STAMP := $(VENV)/.installed
FMNIST := /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz

# CPU=1 takes torch and torchvision from PyTorch's CPU-only index (same versions, +cpu builds, no CUDA libraries).
CPU ?=
TORCH_CPU_INDEX ?= https://download.pytorch.org/whl/cpu

.PHONY: help install kernel data system labs test test-fast lint format clean lowest student site

help:
	@sed -n 's/^## //p' Makefile

install: $(STAMP)

# Python 3.10.12+ or 3.11.4+ (tarfile's extraction filters, used by `data import`); CI runs 3.11.
$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; v = sys.version_info; ok = (v[:2] == (3, 10) and v >= (3, 10, 12)) or v >= (3, 11, 4); \
		sys.exit(0 if ok else "Python %d.%d.%d is too old for the labs: install Python 3.11 (3.10.12+ works) and run make again, e.g. make PYTHON=python3.11" % v[:3])'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(if $(filter 1,$(CPU)),$(PY) -m pip install --quiet --disable-pip-version-check --index-url $(TORCH_CPU_INDEX) \
		$$(grep -E '^(torch|torchvision)==' requirements.txt))
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt -e .
	@touch $@

kernel: $(STAMP)
	$(PY) -m ipykernel install --user --name image-classification-labs --display-name "Image-classification labs"

# Fashion-MNIST: Debian's package where apt and root are available (offline), else torchvision's download.
data: $(STAMP)
	@if [ ! -e $(FMNIST) ] && command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist; fi
	@$(PY) -m helpers data fetch fashion-mnist

# The report is written even when a lab failed; make still fails then, with the run's exit status.
labs: data
	@status=0; $(PY) -m helpers run --profile $(PROFILE) --jobs $(JOBS) --out $(OUT) || status=$$?; \
	$(PY) -m helpers report $(OUT) || { [ $$status -ne 0 ] || status=$$?; }; \
	exit $$status

# System tools the tests use where they exist, from Debian where apt and root are available; the tests
# that need them skip, saying why, where they are missing:
# PostgreSQL's server (lab 13's sweep workers against a throwaway server), bubblewrap (grading's sandbox).
system:
	@missing=""; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || missing="postgresql"; \
	command -v bwrap >/dev/null 2>&1 || missing="$$missing bubblewrap"; \
	if [ -n "$$missing" ] && command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && apt-get install -y -qq $$missing; fi

test: data system
	$(PY) -m pytest

test-fast: data
	LABS_TEST_TIER=fast $(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format . && $(VENV)/bin/ruff check --fix .

student: $(STAMP)
	$(PY) -m helpers frontdoor

# The labs are executed in quick into executed/site-quick/ (a lab whose source is unchanged since its last
# run there is not run again), then Sphinx and myst-nb render them with the pages in docs/.
site: data
	$(PY) -m helpers site --profile quick --out _build/site

# The dependency floors in pyproject.toml are the versions this target installs (uv's lowest-direct
# resolution: every direct dependency at its lower bound) and runs every lab with, in smoke.
LOWEST ?= .venv-lowest
UV_VERSION := 0.13.8
lowest:
	@test -x $(LOWEST)/bin/python || $(PYTHON) -m venv $(LOWEST)
	$(LOWEST)/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(LOWEST)/bin/uv pip install --quiet --python $(LOWEST)/bin/python --resolution lowest-direct -e ".[course]"
	$(LOWEST)/bin/python -c 'import torch, torchvision, numpy, pandas; print("lowest:", "torch", torch.__version__, \
		"torchvision", torchvision.__version__, "numpy", numpy.__version__, "pandas", pandas.__version__)'
	@if [ ! -e $(FMNIST) ] && command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist; fi
	$(LOWEST)/bin/python -m helpers data fetch fashion-mnist
	$(LOWEST)/bin/python -m helpers run --profile smoke --out $(OUT)-lowest

clean:
	rm -rf $(OUT) $(OUT)-lowest results .pytest_cache
