# The two commands of the README:
#   make lab    set everything up, then open the lessons in JupyterLab
#   make test   set everything up, then run the whole test suite (unit tests, every lesson under nbval in
#               fast mode, and the widget test in headless Chromium)
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check
PIP_INSTALL := $(PIP) install -q -c constraints.txt

.PHONY: lab test setup setup-dev chromium clean

$(PY):
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 10), "diffedu needs Python >= 3.10"'
	$(PYTHON) -m venv $(VENV)

# torch first, pinned: a bare "torch>=2.2" in a fresh venv would pull a multi-GB CUDA build.
$(VENV)/.lab-installed: pyproject.toml constraints.txt | $(PY)
	$(PIP_INSTALL) torch
	$(PIP_INSTALL) -e ".[lab]"
	touch $@

$(VENV)/.dev-installed: $(VENV)/.lab-installed
	$(PIP_INSTALL) -e ".[lab,dev]"
	touch $@

setup: $(VENV)/.lab-installed
setup-dev: $(VENV)/.dev-installed

lab: setup
	$(VENV)/bin/jupyter lab lessons/

# Debian's Chromium for the browser test (Playwright drives it; no browser download).
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "could not install chromium: the browser test will report it"; \
	  else echo "no /usr/bin/chromium and not root: run 'sudo apt-get install chromium' for the browser test"; fi; \
	fi

test: setup-dev chromium
	DIFFEDU_FAST=1 $(PY) -m pytest -q -p no:cacheprovider tests lessons --nbval-lax --nbval-current-env \
	  --durations=8

clean:
	rm -rf $(VENV) *.egg-info
