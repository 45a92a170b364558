"""The course site: Sphinx + MyST-NB + the Sphinx Book Theme (``make site``; README, "Course site").

The sources are ``index.md`` and the lessons (``lessons`` is a link to ../lessons, so page names, and the
Binder and Colab links that the theme builds from them, are the repository's own paths ``lessons/NN_….ipynb``).
MyST-NB executes every lesson in a kernel that inherits this process's environment: ``make site`` sets
``DIFFEDU_SITE=1`` (each widget then shows its kernel-free copy, ``diffedu/widgets/_site.py``) and the size
(``DIFFEDU_FAST=1`` for CI). Everything a page needs is served by the site itself — plotly.js from the
installed plotly, MathJax 3 from ``sphinx-mathjax-offline`` — so it reads offline, with no CDN.
"""
import importlib.util
import os
import shutil
from pathlib import Path

import plotly

project = "diffedu"
author = "The diffedu course team"
copyright = "the diffedu course team, MIT licence"

extensions = ["myst_nb"]
root_doc = "index"
exclude_patterns = ["_build", "**/.ipynb_checkpoints", "lessons/drafts", "lessons/_*"]
if os.environ.get("DIFFEDU_SITE_LESSONS"):      # e.g. "01,04": a partial site, for trying a change quickly
    include_patterns = ["index.md"] + [f"lessons/{n.strip()}_*.ipynb"
                                       for n in os.environ["DIFFEDU_SITE_LESSONS"].split(",")]

# ---- execution: every lesson run top to bottom at this build's size; a failing cell fails the build.
# "cache": reuse a previous run's outputs; "off": the notebooks already hold their outputs (make test builds the
# site from the lessons its browser runs executed and saved, tests/test_site.py)
nb_execution_mode = os.environ.get("DIFFEDU_SITE_EXECUTE", "force")
nb_execution_timeout = int(os.environ.get("DIFFEDU_SITE_TIMEOUT", "900"))   # seconds per cell
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_merge_streams = True
nb_ipywidgets_js = {}          # no widget views on the pages (site mode): no require.js or widget manager from a CDN
if nb_execution_mode == "off":  # lessons run in JupyterLab with DIFFEDU_SITE=live (make test) hold each widget's view
    # AND its kernel-free copy (text/html) in one output: the page takes the copy (tests/test_site.py checks each
    # widget has one); plotly's own mimetype is not rendered here either
    nb_mime_priority_overrides = [("html", "application/vnd.jupyter.widget-view+json", None)]
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3
suppress_warnings = ["myst.header", "mystnb.unknown_mime_type"]

# ---- equations: MathJax 3 served from _static, not from a CDN. The package sphinx-mathjax-offline ships MathJax
# 3.2.2 (only its files are used here); the SVG output draws glyphs from paths inside tex-svg.js, so no font file is
# fetched. (MathJax 2 from jupyter-server-mathjax, tried first, loaded offline but left \(…\) raw.)
MATHJAX = Path(importlib.util.find_spec("sphinx-mathjax-offline").origin).parent / "static" / "mathjax"
mathjax_path = "mathjax/tex-svg.js"
mathjax3_config = {"tex": {"inlineMath": [["\\(", "\\)"]], "displayMath": [["\\[", "\\]"]]},
                   "options": {"processHtmlClass": "tex2jax_process|mathjax_process|math|output_area"}}

# ---- the theme: a table of contents in lecture order (index.md) and Binder / Colab buttons on every lesson
html_theme = "sphinx_book_theme"
html_title = "diffedu: diffusion models, an interactive course"
html_theme_options = {
    "repository_url": "https://github.com/diffedu/diffedu",
    "repository_branch": "main",
    "path_to_docs": "",
    "use_repository_button": True,
    "launch_buttons": {"binderhub_url": "https://mybinder.org", "colab_url": "https://colab.research.google.com",
                       "notebook_interface": "jupyterlab"},
    "show_toc_level": 2,
}
html_static_path = ["_static"]
html_css_files = ["diffedu.css"]
html_js_files = ["plotly.min.js"]      # once per page, in <head>, before the figures' own scripts call it
html_last_updated_fmt = None
html_copy_source = False


def _copy_assets(app, exception):
    """plotly.js and MathJax into _static (after Sphinx's own copy; a rebuild skips what is there)."""
    if exception is not None or app.builder.format != "html":
        return
    static = Path(app.outdir) / "_static"
    shutil.copy2(Path(plotly.__file__).parent / "package_data" / "plotly.min.js", static / "plotly.min.js")
    mathjax = static / "mathjax"
    if not (mathjax / "tex-svg.js").exists():
        shutil.copytree(MATHJAX, mathjax, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("*speech*", "sre*", "node-main*"))   # accessibility extras


def setup(app):
    if os.environ.get("DIFFEDU_SITE") != "1":
        raise RuntimeError("build the site with `make site` (it sets DIFFEDU_SITE=1: the widgets' kernel-free "
                           "copies); without it every widget would be a live one that a static page cannot show")
    app.connect("build-finished", _copy_assets)
