# make labs   execute every lab into executed/ and write executed/report.html (PROFILE=smoke|quick|full|auto)
# make test   run the test suite
# Both create .venv and install requirements.txt if needed, and fetch the data first.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PROFILE ?= auto
OUT ?= executed
STAMP := $(VENV)/.installed
FMNIST := /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz

.PHONY: help install data labs test lint format clean

help:
	@sed -n 's/^# //p' Makefile | head -3

install: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt -e .
	@touch $@

# Fashion-MNIST: Debian's package where apt and root are available (offline), else torchvision's download.
data: $(STAMP)
	@if [ ! -e $(FMNIST) ] && command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist; fi
	@$(PY) -m helpers data fetch fashion-mnist

# The report is written even when a lab failed; make still fails then, with the run's exit status.
labs: data
	@status=0; $(PY) -m helpers run --profile $(PROFILE) --out $(OUT) || status=$$?; \
	$(PY) -m helpers report $(OUT) || { [ $$status -ne 0 ] || status=$$?; }; \
	exit $$status

test: data
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format . && $(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(OUT) results .pytest_cache
