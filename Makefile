# make run  : create .venv, install requirements.txt, start the app
# make test : create .venv, install test dependencies (and Debian's chromium and postgresql), ruff, every test
#             (TEST_WORKERS=1 runs the first part in one process)
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# The shared MNIST copy when it is beside the project; otherwise mnist_core uses ./data.
ifneq ($(wildcard ../shared/data/MNIST),)
export MNIST_DATA ?= $(abspath ../shared/data)
endif

.PHONY: run test bench pretrain clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	touch $@

$(VENV)/.test-installed: $(VENV)/.installed requirements-test.txt
	$(PY) -m pip install -q -r requirements-test.txt
	@command -v chromium >/dev/null || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; }
# Debian's postgresql package creates a "main" system cluster (port 5432) and starts it where
# services may start; the tests never use it, so the clusters this install created are dropped.
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  echo "installing Debian's postgresql for the sweep tests (tests/postgres.py starts its own servers)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  before=$$(ls -d /etc/postgresql/*/* 2>/dev/null); \
	  $$SUDO apt-get update -qq && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	    postgresql >/dev/null && \
	  for cluster in $$(ls -d /etc/postgresql/*/* 2>/dev/null); do \
	    echo "$$before" | grep -qxF "$$cluster" || \
	      $$SUDO pg_dropcluster --stop "$$(basename "$$(dirname "$$cluster")")" "$$(basename "$$cluster")" || \
	      echo "could not drop the system cluster $$cluster (the tests do not use it)"; \
	  done; }
	touch $@

run: $(VENV)/.installed
	$(PY) -m streamlit run streamlit_app.py

# The tests that need no browser run in TEST_WORKERS processes (pytest-xdist; one torch thread
# each, tests/conftest.py); then the browser tests alone: a busy machine loses drawn strokes.
TEST_WORKERS ?= 2
test: $(VENV)/.test-installed
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q -n $(TEST_WORKERS) -m "not browser" --durations=10
	$(PY) -m pytest -q -p no:xdist -m browser --durations=5

bench: $(VENV)/.installed
	$(PY) -m mnist_core bench

pretrain: $(VENV)/.installed
	$(PY) -m mnist_core pretrain

clean:
	rm -rf $(VENV) .pytest_cache
