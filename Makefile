# make run  : create .venv, install requirements.txt, start the app
# make test : create .venv, install test dependencies (and Debian's chromium), run every test
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
	touch $@

run: $(VENV)/.installed
	$(PY) -m streamlit run streamlit_app.py

test: $(VENV)/.test-installed
	$(PY) -m pytest -q --durations=15

bench: $(VENV)/.installed
	$(PY) -m mnist_core bench

pretrain: $(VENV)/.installed
	$(PY) -m mnist_core pretrain

clean:
	rm -rf $(VENV) .pytest_cache
