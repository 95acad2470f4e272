# Two commands on a fresh machine: `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8001
# udata (data.gouv.fr's software) pins dozens of dependencies of its own: it gets its own venv,
# used only by tests/udata_harvest.py to harvest the catalogue with data.gouv.fr's real harvester.
UDATA_VENV := .venv-udata

.PHONY: install demo test test-fast lint cog bench bench-secret browser nginx udata rsync wrk clean

# Everything that holds Python is checked whole: a new module is held from its first commit.
LINTED := ccas_opendata tests scripts
# cog runs the README's [[[cog blocks with scripts/ importable (scripts/cli_reference.py).
COG := -I scripts
# The suite runs on two workers (pytest-xdist), one per core of CI's and the team's machines;
# a test file stays on one worker (--dist loadfile), so its module fixtures (a release or two)
# are built once. Tests marked `timing` (a latency, a delay) would share the cores with the
# other worker's releases: they run after, alone. `make test TEST_WORKERS=0` runs in one process.
TEST_WORKERS ?= 2
PYTEST_PARALLEL := -n $(TEST_WORKERS) --dist loadfile
# Python's bytecode cache stays on for every recipe, even where the shell turns it off
# (PYTHONDONTWRITEBYTECODE=1 on some machines, this one included): without it each pytest
# worker compiles the test modules and their assertion rewrites again (collection 3.7 s
# instead of 1.3 s), and each release the bench times compiles the package again, which an
# installed wheel never does. __pycache__/ is in .gitignore.
unexport PYTHONDONTWRITEBYTECODE

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

## Build the three demo years of the fictional CCAS and serve them on 127.0.0.1:$(PORT).
demo: install
	$(BIN)/ccas-opendata demo --port $(PORT)

## Install everything (Chromium and nginx included, for the page and deployment tests) and run the whole suite.
test: install browser nginx udata rsync lint
	$(BIN)/pytest $(PYTEST_PARALLEL) -m "not timing"; parallel=$$?; $(BIN)/pytest -m timing && exit $$parallel

## ruff (lint and format check) and mypy on the package, the tests and the scripts, whole;
## then cog checks that the README's command reference is the one the commands give, and
## that the raw-record suites are what contract.yml gives (python -m ccas_opendata.suites).
lint: install
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/mypy $(LINTED)
	$(BIN)/cog $(COG) --check README.md
	$(BIN)/python -m ccas_opendata.suites --check

## Rewrite the README's command reference from the Click commands (scripts/cli_reference.py):
## run it after adding or changing a command or an option, as make lint checks it is current.
cog: install
	$(BIN)/cog $(COG) -r README.md

## The suite without the slow end-to-end and browser cases (a test that runs a release is
## marked slow by tests/conftest.py from its source and fixtures).
test-fast: install
	$(BIN)/pytest $(PYTEST_PARALLEL) -m "not slow and not browser and not timing"

## CPU of a typical year and of a million accompaniments (against pandas and DuckDB), memory,
## and the site under load (wrk), direct and through nginx's cache.
bench: install nginx wrk
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python -m compileall -q ccas_opendata
	$(BIN)/python scripts/bench.py

## Share of cells the secrecy hides on the demo years and on a small CCAS.
bench-secret: install
	$(BIN)/python scripts/secrecy_utility.py

## Debian's Chromium for the page tests, installed when missing.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installation de Chromium (tests des pages)…"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

## Debian's nginx for the deployment tests and the bench (run as a user, on a loopback port), installed when missing.
nginx:
	@command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || { \
	  echo "Installation de nginx (tests de la mise en ligne)…"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq nginx >/dev/null; }

## udata 17.18 and mongomock in their own venv, for the harvester test (tests/test_udata_harvest.py).
udata: $(UDATA_VENV)/.installed

$(UDATA_VENV)/.installed:
	$(PYTHON) -m venv $(UDATA_VENV)
	$(UDATA_VENV)/bin/pip install --quiet --upgrade pip
	$(UDATA_VENV)/bin/pip install --quiet 'udata==17.18.0' 'mongomock>=4.1'
	touch $@

## Debian's wrk, the load client of the bench, installed when missing.
wrk:
	@command -v wrk >/dev/null 2>&1 || { \
	  echo "Installation de wrk (banc d'essai du site)…"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq wrk >/dev/null; }

clean:
	rm -rf .travail .versions publish telechargements changements.json datapackages/[0-9]* .pytest_cache

## rsync for the test of the copy to the server (README, « Mettre en ligne »), installed when missing.
rsync:
	@command -v rsync >/dev/null 2>&1 || { \
	  echo "Installation de rsync (test de la copie vers le serveur)…"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq rsync >/dev/null; }
