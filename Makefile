# The two commands of the README:
#   make lab    set everything up, then open the lessons in JupyterLab (as root too; extra server arguments
#               in ARGS, e.g. make lab ARGS="--no-browser --port 8890" on a remote machine)
#   make test   set everything up, then run the whole test suite (unit tests, every lesson run in fast mode
#               in JupyterLab driven by headless Chromium — nbval without Chromium — and the course site
#               built and opened);
#               DIFFEDU_STRICT=1 makes any warning a lesson would print an error (diffedu/config.py), so a
#               warning in a lesson's output fails (two pytest-xdist workers: CI on 2 cores)
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check
PIP_INSTALL := $(PIP) install -q
ARGS   ?=
# JupyterLab refuses to start as root unless told; containers and cloud machines often run as root
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: lab test site setup setup-dev chromium clean

$(PY):
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 10), "diffedu needs Python >= 3.10"'
	$(PYTHON) -m venv $(VENV)

# torch first, chosen for the machine (binder/torch_setup.py): an installed torch is kept, a GPU machine gets the
# CUDA build, any other the CPU build — a bare "torch>=2.2" would pull a multi-GB CUDA build everywhere.
$(VENV)/.lab-installed: pyproject.toml binder/torch_setup.py binder/overrides.json | $(PY)
	$(PY) binder/torch_setup.py
	$(PIP_INSTALL) -e ".[lab]"
	mkdir -p $(VENV)/share/jupyter/lab/settings && cp binder/overrides.json $(VENV)/share/jupyter/lab/settings/
	touch $@

$(VENV)/.dev-installed: $(VENV)/.lab-installed
	$(PIP_INSTALL) -e ".[lab,dev,site]"
	touch $@

setup: $(VENV)/.lab-installed
setup-dev: $(VENV)/.dev-installed

# The repository is the server's root (as on Binder), so /lab/tree/lessons/01_… is the same path everywhere;
# LabApp.default_url makes the browser open, and the server print, …/lab/tree/lessons?token=…; binder/overrides.json
# (installed into the environment above) keeps the "Jupyter news?" pop-up and the update check away.
lab: setup
	$(VENV)/bin/jupyter lab --ServerApp.root_dir=. --LabApp.default_url=/lab/tree/lessons \
	  --LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate $(ROOT_FLAG) $(ARGS)

# Debian's Chromium for the browser test (Playwright drives it; no browser download).
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "could not install chromium: the browser test will report it"; \
	  else echo "no /usr/bin/chromium and not root: run 'sudo apt-get install chromium' for the browser test"; fi; \
	fi

# OMP_NUM_THREADS=1: two workers on two cores; with torch's default of one thread per core each, the OpenMP threads
# of one worker wait for the other's (the unit tests took 692 s that way, 160 s with one thread each).
# Every lesson runs in full in JupyterLab (test_browser*.py: every cell, any error output fails), with
# DIFFEDU_SITE=live so that the saved notebook (in DIFFEDU_SITE_FROM_BROWSER, emptied by tests/conftest.py) is also
# the site's page, which test_site.py (DIFFEDU_SITE_BUILD=1) builds without executing it again; lessons 04 and 14
# run again through make site's own path, 01 and 08 as Colab runs them (test_colab.py). Without Chromium, nbval
# runs the lessons instead of the browser and the site build executes them itself.
# --no-loadscope-reorder: xdist would hand out the files with the most tests first; tests/conftest.py's order
# (the longest first) balances the two workers.
test: setup-dev chromium
	OMP_NUM_THREADS=1 DIFFEDU_FAST=1 DIFFEDU_STRICT=1 DIFFEDU_SITE_BUILD=1 DIFFEDU_SITE_FROM_BROWSER=$(CURDIR)/_site/ci/browser \
	  $(PY) -m pytest -q -rs -p no:cacheprovider \
	  -n 2 --dist loadfile --no-loadscope-reorder tests --durations=12 \
	  $$([ -x /usr/bin/chromium ] || echo lessons --ignore=lessons/drafts --nbval-lax --nbval-current-env)

# The course site (site/conf.py; README, "Course site"): every lesson executed afresh (-E) with DIFFEDU_SITE=1, so
# that each widget shows a kernel-free copy, into static HTML in _site/html/. At the machine's size (cpu size without a
# GPU); make site FAST=1 at CI's size.
$(VENV)/.site-installed: $(VENV)/.lab-installed
	$(PIP_INSTALL) -e ".[lab,site]"
	touch $@

# SITE_JOBS=N lessons execute side by side (Sphinx's parallel read: each process takes its share of the pages),
# each kernel on (usable cores)/N threads; default N = the usable cores, up to 4. One job with
# DIFFEDU_SITE_EXECUTE=cache (jupyter-cache's database is not safe for parallel readers).
SITE_JOBS ?=
site: $(VENV)/.site-installed
	@cores=$$($(PY) -c 'import os; print(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)'); \
	jobs=$${SITE_JOBS:-$(SITE_JOBS)}; jobs=$${jobs:-$$(( cores < 4 ? cores : 4 ))}; \
	[ "$${DIFFEDU_SITE_EXECUTE:-force}" = cache ] && jobs=1; \
	case "$$jobs" in ''|*[!0-9]*|0) echo "SITE_JOBS must be a whole number >= 1, got '$$jobs'"; exit 2;; esac; \
	threads=$$(( cores / jobs > 0 ? cores / jobs : 1 )); \
	echo "the site: $$jobs lessons at a time, each kernel on $${OMP_NUM_THREADS:-$$threads} thread(s)"; \
	DIFFEDU_SITE=1 OMP_NUM_THREADS=$${OMP_NUM_THREADS:-$$threads} $(if $(FAST),DIFFEDU_FAST=1,) \
	  $(VENV)/bin/sphinx-build -E -j $$jobs -b html -d _site/doctrees site _site/html
	@echo "the course site: _site/html/index.html (serve it: $(PY) -m http.server -d _site/html)"

clean:
	rm -rf $(VENV) *.egg-info _site
