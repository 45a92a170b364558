"""The course site (``make site``): the widgets' kernel-free copies, and the built site in headless Chromium.

Without a kernel a slider can only show what was computed when the page was built: ``diffedu.widgets._site``
precomputes one control's positions (plotly frames, or a strip of PNG grids). The first tests check that machinery
on a small page; ``test_every_lesson_page`` opens every lesson of a site built by ``make site`` (``_site/html/``, or
``$DIFFEDU_SITE_DIR``) with no network beyond the loopback: figures, equations, the Binder and Colab links, the
kernel-free copies drawn, one of them slid.
"""
from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import statistics
import threading
from contextlib import contextmanager
from pathlib import Path

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np
import plotly
import pytest

from diffedu.plotting import show
from diffedu.widgets import _site, schedule_explorer
from jupyterlab_browser import CHROMIUM, CHROMIUM_ARGS, missing_browser, require_browser

ROOT = Path(__file__).resolve().parent.parent
LESSONS = sorted(p.stem for p in (ROOT / "lessons").glob("[0-9][0-9]_*.ipynb"))


@pytest.fixture
def site_mode(monkeypatch):
    """Site mode, in an IPython shell that formats figures as PNG (as the kernel that builds the site does)."""
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.core.pylabtools import select_figure_formats

    select_figure_formats(InteractiveShell.instance(), {"png"})
    monkeypatch.setenv("DIFFEDU_SITE", "1")
    monkeypatch.setenv("DIFFEDU_SITE_STEPS", "5")


# ---- the machinery, no browser

def test_positions_are_thinned_evenly_and_keep_the_current_value():
    s = W.FloatSlider(value=3.0, min=0.0, max=10.0, step=0.5)
    values, labels, active = _site.control_values(s, 5)
    assert len(values) == 5 and values[0] == 0.0 and values[-1] == 10.0
    assert values[active] == 3.0 and labels[active] == "3"
    assert values == sorted(values)
    log = W.FloatLogSlider(value=0.01, base=10, min=-3, max=0, step=0.25)
    values, _, active = _site.control_values(log, 100)
    assert len(values) == 13 and np.isclose(values[0], 1e-3) and np.isclose(values[-1], 1.0)
    assert values[active] == 0.01
    sel = W.SelectionSlider(options=[("a", 10), ("b", 20), ("c", 30)], value=20)
    assert _site.control_values(sel, 5) == ([10, 20, 30], ["a", "b", "c"], 1)


def test_the_control_is_named_or_the_first_slider():
    c = {"kind": W.Dropdown(options=["x", "y"]), "t": W.IntSlider(), "n": W.IntSlider()}
    assert _site.choose_control(c) == "t"
    assert _site.choose_control(c, "n") == "n"
    with pytest.raises(ValueError, match="site must name one of the controls"):
        _site.choose_control(c, "beta")
    one_level = {"level": W.SelectionSlider(options=[0.1], value=0.1), "weighted": W.Dropdown(options=["a", "b"])}
    assert _site.choose_control(one_level) == "weighted"        # a slider with one position slides nothing
    with pytest.raises(ValueError, match="two positions"):
        _site.choose_control({"level": W.SelectionSlider(options=[0.1], value=0.1)})


def test_plotly_copy_holds_one_frame_per_position_with_only_what_changes(site_mode):
    box = schedule_explorer()
    assert box.children and not any(type(c).__name__ == "FigureWidget" for c in box.children)  # no live figure
    c = box.controls
    from diffedu.widgets.schedule import schedule_figure, update_schedules

    fig = _site.plotly_slider(schedule_figure(), update_schedules, c, "beta_end")
    steps = fig.layout.sliders[0].steps
    assert len(fig.frames) == len(steps) == 5
    assert fig.layout.sliders[0].active == [s.label for s in steps].index("0.02")
    # β_T moves only the linear (bold) schedule's three curves and the title: the frames carry nothing else
    assert list(fig.frames[0].traces) == [0, 1, 2]
    ys = [np.asarray(f.data[0].y) for f in fig.frames]
    assert all(not np.allclose(ys[0], y) for y in ys[1:])
    relayout = fig.layout.meta["relayout"]
    assert [list(r) for r in relayout] == [["title.text"]] * 5 and relayout[0] != relayout[-1]
    assert fig.layout.meta["animated"] and not fig.layout.meta["redraw"]      # scatter only: moved in place
    html = box._repr_mimebundle_()["text/html"]
    assert "Kernel-free copy" in html and "Plotly.newPlot" in html and "cdn.plot.ly" not in html


def test_a_position_where_the_widget_fails_is_left_out_and_named(site_mode):
    def update(fig, a):
        if a > 2:
            raise ValueError("diverged")
        fig.data[0].y = [a, a]

    import plotly.graph_objects as go

    controls = {"a": W.IntSlider(value=1, min=0, max=4)}
    html = _site.plotly_html(go.Figure(go.Scatter(y=[0, 0])), update, controls)
    assert "3: diverged" in html and "4: diverged" in html and "the 3 positions" in html
    with pytest.raises(ValueError, match="only the shown position.*3: diverged"):   # a copy that cannot slide
        _site.plotly_html(go.Figure(go.Scatter(y=[0, 0])), update, {"a": W.IntSlider(value=2, min=2, max=3)})


def _image_draw(w):
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.imshow(np.full((4, 4), w), vmin=0, vmax=4)
    show(fig)


def test_training_draws_no_progress_bar_while_the_site_is_built(monkeypatch):
    """A progress bar in a notebook is a widget, which a static page shows as a dead "widget view": none in site
    mode, for the diffusion loop and the GAN's alike (both use ``train.progress_bar``)."""
    from diffedu.train import progress_bar

    monkeypatch.delenv("DIFFEDU_SITE", raising=False)
    assert not progress_bar(range(3), True).disable and progress_bar(range(3), False).disable
    monkeypatch.setenv("DIFFEDU_SITE", "1")
    assert progress_bar(range(3), True).disable
    monkeypatch.setenv("DIFFEDU_SITE", "live")    # make test's browser runs: their saved outputs become the pages
    assert progress_bar(range(3), True).disable


def test_live_mode_shows_the_widget_and_keeps_its_copy_beside_it(site_mode, monkeypatch):
    """DIFFEDU_SITE=live (make test's browser runs): the output holds the live widget's view, which JupyterLab
    draws, and the kernel-free copy as HTML, which the site's page takes (site/conf.py drops widget views) —
    for plotly widgets and image widgets alike; any other value of DIFFEDU_SITE is an error naming it."""
    from diffedu.widgets._base import live

    monkeypatch.setenv("DIFFEDU_SITE", "live")
    box = schedule_explorer()
    assert any(type(c).__name__ == "FigureWidget" for c in box.children)          # live, as in JupyterLab
    bundle = box._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert "Kernel-free copy" in bundle["text/html"] and "cdn.plot.ly" not in bundle["text/html"]
    drawn = []                                  # what draw last set beside its figure (lesson 14: the audio player)

    def draw(w):
        drawn.append(w)
        _image_draw(w)

    images = live(draw, {"w": W.FloatSlider(value=1.0, min=0.0, max=4.0, step=0.5)})
    bundle = images._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle and "diffedu-image-slider" in bundle["text/html"]
    assert len(set(drawn)) == 5 and drawn[-1] == 1.0      # every position drawn for the copy, then the shown one
    monkeypatch.delenv("DIFFEDU_SITE")                                                # JupyterLab as usual
    assert "Kernel-free copy" not in schedule_explorer()._repr_mimebundle_().get("text/html", "")
    monkeypatch.setenv("DIFFEDU_SITE", "yes")
    with pytest.raises(ValueError, match="DIFFEDU_SITE must be"):
        schedule_explorer()


def test_image_copy_is_one_png_per_position(site_mode):
    controls = {"w": W.FloatSlider(value=1.0, min=0.0, max=4.0, step=0.5)}
    html = _site.image_slider(_image_draw, controls)
    srcs = re.search(r"s=(\[.*?\])", html).group(1)
    assert srcs.count("data:image/png;base64,") == 5 and len(set(srcs.split(","))) > 3
    assert "type='range'" in html and "max='4'" in html


# ---- in the browser

@contextmanager
def serve(folder: Path):
    """``folder`` over HTTP on the loopback."""
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


@pytest.fixture(scope="module")
def browser():
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@contextmanager
def offline_page(browser, base: str):
    """A page that may fetch only from ``base`` (like CI, and like a reader without a CDN); what else it asked for
    and every script error are collected in ``page.problems``."""
    context = browser.new_context(viewport={"width": 1300, "height": 900})
    context.set_default_timeout(120_000)     # a loaded CI machine: the whole-site CI run loads pages beside a build
    page = context.new_page()
    page.problems = []
    page.route(re.compile(r"^(?!" + re.escape(base) + ").*"),
               lambda route: (page.problems.append(f"outside request {route.request.url}"), route.abort()))
    page.on("pageerror", lambda e: page.problems.append(f"script error {e}"))
    page.on("requestfailed", lambda r: r.url.startswith(base) and page.problems.append(f"failed {r.url}"))
    try:
        yield page
    finally:
        context.close()


def quiet_network(page, ms: int = 3000) -> None:
    """Up to ``ms`` for the page's requests to settle (Playwright's "networkidle"), so that a request made after the
    checks is still seen; not required: under CI's load the whole-site run once timed out waiting for it at 30 s."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_load_state("networkidle", timeout=ms)
    except PlaywrightTimeout:
        pass


# The data a figure's first animated trace shows now, as a fingerprint (typed arrays too): a heat map's z (its y is
# the fixed axis), else the curve's y
FINGERPRINT = """gd => { const t = gd._fullData[(gd._transitionData._frames[0].traces || [0])[0]];
  const a = Array.from(t.z || t.y || []).map(r => typeof r === 'object' && r !== null ? Array.from(r) : r).flat();
  return a.length + ':' + a.join(','); }"""

# Arm a timer: from the next mousedown to the browser's next frame after the slider's move is applied (SLIDE_JS)
ARM = """gd => { window.__ms = null; document.addEventListener('mousedown', e => {
    const t0 = performance.now();
    gd.once('diffedu_slid', () => requestAnimationFrame(() => { window.__ms = performance.now() - t0; }));
  }, {once: true, capture: true}); }"""


def slide_plotly(page, k: int, step: int) -> float:
    """Click the k-th plotly figure's slider at ``step`` (as a reader does); returns ms until the new frame is
    drawn, after asserting that the figure's data changed."""
    gd = page.locator(".plotly-graph-div").nth(k)
    gd.scroll_into_view_if_needed()
    before = gd.evaluate(FINGERPRINT)
    gd.evaluate(ARM)
    tick = gd.locator(".slider-tick-rect").nth(step)                  # one tick per step
    rail = gd.locator(".slider-rail-touch-rect").first.bounding_box()
    box = tick.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, rail["y"] + rail["height"] / 2)
    page.wait_for_function("() => window.__ms !== null", timeout=10_000)
    assert gd.evaluate(FINGERPRINT) != before, "the slider moved but the figure's data did not change"
    return page.evaluate("() => window.__ms")


def test_kernel_free_sliders_redraw_in_the_browser(site_mode, browser, tmp_path):
    """A page with two kernel-free copies, offline: lesson 01's schedule explorer (plotly) and an image strip.
    Each slider moved by the mouse or the keyboard changes its figure; the plotly redraw is timed."""
    (tmp_path / "_static").mkdir()
    shutil.copy(Path(plotly.__file__).parent / "package_data" / "plotly.min.js", tmp_path / "_static")
    images = _site.image_slider(_image_draw, {"w": W.FloatSlider(value=1.0, min=0.0, max=4.0, step=1.0)})
    (tmp_path / "index.html").write_text(
        "<!doctype html><html><head><meta charset='utf-8'><script src='_static/plotly.min.js'></script></head><body>"
        + schedule_explorer()._repr_mimebundle_()["text/html"] + images + "</body></html>")
    with serve(tmp_path) as base, offline_page(browser, base) as page:
        page.goto(base + "/index.html", wait_until="load")
        page.wait_for_selector(".plotly-graph-div .main-svg")
        ms = [slide_plotly(page, 0, s) for s in (4, 1, 3, 0, 2)]
        strip = page.locator(".diffedu-image-slider")
        src = strip.locator("img").get_attribute("src")
        strip.locator("input").focus()
        page.keyboard.press("ArrowRight")
        assert strip.locator("img").get_attribute("src") != src
        assert strip.locator("output").inner_text() == "2"
        assert not page.problems, page.problems
    print(f"plotly slider redraw: median {statistics.median(ms):.0f} ms, worst {max(ms):.0f} ms")
    assert statistics.median(ms) <= 100, f"kernel-free slider redraw took {ms} ms (target ≤ 100 ms)"


# ---- the built site

BUILD: dict = {}   # the CI build, once: its folder, or why it failed (every later caller fails at once, saying so)


def build_site_for_ci() -> Path:
    """``make test`` sets ``DIFFEDU_SITE_BUILD=1``: the site is built here once, at fast size, into _site/ci.

    Its lessons are those the browser runs executed (``make test`` also sets ``DIFFEDU_SITE_FROM_BROWSER``:
    test_browser*.py run each lesson in JupyterLab with ``DIFFEDU_SITE=live`` and save it there), so no lesson runs
    twice: the build waits for them, then renders them without executing (``DIFFEDU_SITE_EXECUTE=off``;
    ``test_lessons_executed_by_make_site_match_their_browser_runs`` checks that path against ``make site``'s own).
    Without Chromium, or where this session does not run every lesson's browser run (``-k``), it builds as
    ``make site FAST=1`` does: every lesson executed afresh with DIFFEDU_SITE=1 (a failing cell, or with
    DIFFEDU_STRICT=1 a warning, fails the build). One Sphinx process."""
    if "failed" in BUILD:
        pytest.fail(BUILD["failed"])
    if "html" not in BUILD:
        try:
            BUILD["html"] = _build_site_for_ci()
        except BaseException as e:
            BUILD["failed"] = f"the CI site's build failed earlier in this session: {str(e)[:3000]}"
            raise
    return BUILD["html"]


def _build_site_for_ci() -> Path:
    import time

    from conftest import BROWSER_RUNS

    out = ROOT / "_site" / "ci"
    shutil.rmtree(out / "html", ignore_errors=True)
    shutil.rmtree(out / "doctrees", ignore_errors=True)
    start = time.perf_counter()
    saved = os.environ.get("DIFFEDU_SITE_FROM_BROWSER")
    browser_runs = not missing_browser() and {f"{n}.ipynb" for n in site_lessons()} <= BROWSER_RUNS
    if saved and browser_runs:
        waited = _wait_for_browser_runs(Path(saved))
        check_saved_outputs(Path(saved) / "lessons")
        src = out / "src"
        shutil.rmtree(src, ignore_errors=True)
        src.mkdir(parents=True)
        shutil.copy2(ROOT / "site" / "index.md", src / "index.md")
        (src / "lessons").symlink_to(Path(saved).resolve() / "lessons", target_is_directory=True)
        how, times = f"from the browser runs' saved lessons (waited {waited:.0f} s for them)", []
        _sphinx(src, out, DIFFEDU_SITE_EXECUTE="off")
        BUILD["from browser runs"] = True
    else:
        r = _sphinx(ROOT / "site", out)
        times = re.findall(r"lessons/(\S+)\.ipynb: Executed notebook in ([\d.]+) seconds", r.stdout + r.stderr)
        how = "every lesson executed"
    pages = list((out / "html" / "lessons").glob("*.html"))
    images = len(list((out / "html" / "_images").glob("*")))
    line = f"site at fast size, {how}: {len(pages)} lesson pages, {images} images, {time.perf_counter() - start:.0f} s"
    (out / "build.txt").write_text(line + "\n" + "".join(f"  {n}: executed in {t} s\n" for n, t in times))
    print(line)
    return out / "html"


def check_saved_outputs(lessons: Path) -> None:
    """Every widget in the saved lessons carries its kernel-free copy (text/html): a widget view without one
    would reach the page as its bare ``text/plain`` (site/conf.py drops widget views from these pages)."""
    import json

    bare = []
    for path in sorted(lessons.glob("*.ipynb")):
        for i, cell in enumerate(json.loads(path.read_text(encoding="utf-8"))["cells"]):
            for o in cell.get("outputs", []):
                data = o.get("data", {})
                if "application/vnd.jupyter.widget-view+json" in data and "text/html" not in data:
                    bare.append(f"{path.stem} cell {i}: {str(data.get('text/plain', ''))[:80]}")
    assert not bare, f"widgets with no kernel-free copy (not a SiteBox?): {bare}"


def _sphinx(src: Path, out: Path, **env):
    """sphinx-build -E -b html of ``src`` (the configuration from site/) into out/html; fails with its output."""
    import subprocess
    import sys

    env = dict(os.environ, DIFFEDU_SITE="1", DIFFEDU_FAST="1", **env)
    r = subprocess.run([sys.executable, "-m", "sphinx", "-E", "-b", "html", "-c", str(ROOT / "site"),
                        "-d", str(out / "doctrees"), str(src), str(out / "html")], env=env, capture_output=True,
                       text=True)
    assert r.returncode == 0, f"the site build failed:\n{r.stdout[-3000:]}\n{r.stderr[-6000:]}"
    return r


def _wait_for_browser_runs(saved: Path, timeout_s: float = 2400) -> float:
    """Seconds waited until every lesson is saved in ``saved``/lessons/ by its browser run; a lesson whose run
    failed or was skipped (``NN.failed``, written by tests/conftest.py) fails the build at once, naming it."""
    import time

    start = time.perf_counter()
    while True:
        failed = sorted(saved.glob("*.failed")) if saved.exists() else []
        if failed:
            why = "; ".join(f"{f.stem}: {f.read_text()[:300]}" for f in failed)
            pytest.fail(f"no site page for lessons whose browser run failed (test_browser*.py): {why}")
        missing = [n for n in site_lessons() if not (saved / "lessons" / f"{n}.ipynb").exists()]
        if not missing:
            return time.perf_counter() - start
        if time.perf_counter() - start > timeout_s:
            pytest.fail(f"the browser runs saved no {missing} in {timeout_s:.0f} s (DIFFEDU_SITE_FROM_BROWSER={saved})")
        time.sleep(2)


def site_lessons() -> list[str]:
    """The lessons the site holds: all, or those of a partial build (``DIFFEDU_SITE_LESSONS=01,07``, as
    site/conf.py reads it)."""
    partial = [n.strip() for n in os.environ.get("DIFFEDU_SITE_LESSONS", "").split(",") if n.strip()]
    return [n for n in LESSONS if not partial or n[:2] in partial]


def built_site(lesson: str | None = None) -> tuple[Path, list[str]]:
    """The built site and the lessons it must hold: all of them, or those of a partial build
    (``DIFFEDU_SITE_LESSONS=01,07``, as site/conf.py reads it)."""
    if os.environ.get("DIFFEDU_SITE_BUILD") == "1" and not os.environ.get("DIFFEDU_SITE_DIR"):
        os.environ["DIFFEDU_SITE_DIR"] = str(build_site_for_ci())
    site = Path(os.environ.get("DIFFEDU_SITE_DIR") or ROOT / "_site" / "html")
    wanted = site_lessons()
    if lesson is not None and lesson not in wanted:
        pytest.skip(f"{lesson} is not in the partial site DIFFEDU_SITE_LESSONS={os.environ['DIFFEDU_SITE_LESSONS']}")
    missing = [n for n in wanted if not (site / "lessons" / f"{n}.html").exists()]
    if missing:
        msg = f"no built site at {site} (missing {missing[:3]}…): build it with `make site FAST=1`"
        if os.environ.get("DIFFEDU_SITE_DIR"):
            pytest.fail(msg)
        pytest.skip(msg)
    return site, wanted


def test_the_contents_list_every_lesson_in_lecture_order():
    site, wanted = built_site()
    index = (site / "index.html").read_text()
    found = re.findall(r'href="lessons/(\d\d)_[^"#]*\.html"', index)
    assert list(dict.fromkeys(found)) == [n[:2] for n in wanted]


# short lessons (≈ 10 s each at fast size): plotly copies and plain figures (04), image strips and audio (14)
SAME_AS_MAKE_SITE = ("04_langevin", "14_other_modalities")


def page_parts(html_text: str) -> dict:
    """What a lesson page shows, counted: cells with output, images, plotly figures (and those with a slider),
    kernel-free copies' notes and image strips, widget views, tracebacks."""
    count = lambda pattern: len(re.findall(pattern, html_text))  # noqa: E731
    return {"outputs": count(r'class="cell_output'), "images": count(r"<img "),
            "plotly": count(r'class="plotly-graph-div"'), "plotly sliders": count(r'"sliders": ?\[\{'),
            "notes": count(r"class='diffedu-site-note'"), "strips": count(r"class='diffedu-image-slider'"),
            "widget views": count(r"application/vnd\.jupyter\.widget-view\+json"),
            "tracebacks": count(r"Traceback \(most recent call last\)")}


def test_lessons_executed_by_make_site_match_their_browser_runs():
    """``make site``'s own path — MyST-NB executing the lesson with DIFFEDU_SITE=1, each widget shown as its
    kernel-free copy only — gives the pages that the CI site (built from the browser runs' saved lessons, widgets
    live with their copies beside them, DIFFEDU_SITE=live) holds: the same outputs, figures and copies."""
    site, wanted = built_site()
    if not BUILD.get("from browser runs"):
        pytest.skip("the site here was not built from the browser runs' saved lessons (make test builds it so)")
    lessons = [n for n in SAME_AS_MAKE_SITE if n in wanted]
    if not lessons:
        pytest.skip(f"none of {SAME_AS_MAKE_SITE} in this partial site")
    out = ROOT / "_site" / "ci-exec"
    shutil.rmtree(out, ignore_errors=True)
    _sphinx(ROOT / "site", out, DIFFEDU_SITE_LESSONS=",".join(n[:2] for n in lessons), DIFFEDU_SITE_EXECUTE="force")
    for name in lessons:
        executed = page_parts((out / "html" / "lessons" / f"{name}.html").read_text())
        ci = page_parts((site / "lessons" / f"{name}.html").read_text())
        assert executed["notes"] >= 1 and executed["widget views"] == 0 == executed["tracebacks"], (name, executed)
        assert ci == executed, f"{name}: the CI site's page {ci} differs from make site's {executed}"


PAGE_CHECK = r"""async () => {
  const within = (p, ms) => Promise.race([p, new Promise(r => setTimeout(r, ms))]);   // never hang: the checks say
  document.querySelectorAll('img').forEach(i => i.loading = 'eager');
  await within(Promise.all([...document.images].map(i => i.complete ? 0 : new Promise(r => { i.onload = i.onerror = r; }))), 30000);
  if (document.querySelector('.math')) {          // MathJax 3 loads asynchronously: wait for its first typesetting
    for (let k = 0; k < 300 && !(window.MathJax && MathJax.startup && MathJax.startup.promise); k++)
      await new Promise(r => setTimeout(r, 100));
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) await within(MathJax.startup.promise, 60000);
  }
  const undrawn = () => [...document.querySelectorAll('.plotly-graph-div')].filter(g => !g.querySelector('.main-svg')).length;
  for (let k = 0; k < 600 && undrawn(); k++) await new Promise(r => setTimeout(r, 100));   // plotly draws asynchronously
  for (let k = 0; k < 3; k++) await new Promise(r => requestAnimationFrame(r));   // plotly refits (FIT_JS)
  const text = document.body.innerText;
  return {
    images: document.images.length,
    broken: [...document.images].filter(i => !(i.naturalWidth > 0)).map(i => i.src.slice(0, 80)),
    widgetError: text.includes('Error displaying widget'),
    widgetViews: document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]').length,
    plotly: document.querySelectorAll('.plotly-graph-div').length,
    drawn: document.querySelectorAll('.plotly-graph-div .main-svg').length,
    overflowing: [...document.querySelectorAll('.plotly-graph-div')].filter(g => g.querySelector('.main-svg')
        && g.querySelector('.main-svg').getBoundingClientRect().width > g.getBoundingClientRect().width + 1).length,
    sliders: document.querySelectorAll('.plotly-graph-div .slider-container').length,
    strips: document.querySelectorAll('.diffedu-image-slider').length,
    notes: document.querySelectorAll('.diffedu-site-note').length,
    mathSpans: document.querySelectorAll('.math').length,
    math: document.querySelectorAll('mjx-container svg').length,
    mathInk: [...document.querySelectorAll('mjx-container svg')].filter(e => e.querySelector('use, path')).length,
    mathErrors: document.querySelectorAll('mjx-merror').length,
    rawMath: (text.match(/\\\(|\\\[/g) || []).length,
    traceback: [...document.querySelectorAll('.output pre, .cell_output pre')].some(p => /Traceback \(most recent call last\)/.test(p.innerText)),
    binder: [...document.links].filter(a => a.href.includes('mybinder.org') && a.href.includes('lessons/')).length,
    colab: [...document.links].filter(a => a.href.includes('colab.research.google.com') && a.href.includes('lessons/')).length,
  };
}"""


@pytest.mark.browser
@pytest.mark.parametrize("lesson", LESSONS, ids=[n[:2] for n in LESSONS])
def test_every_lesson_page(browser, lesson):
    """The lesson's page, offline: every image loaded, no widget view or widget error, every plotly figure drawn,
    one note per kernel-free copy (each a plotly slider or an image strip), no traceback, the
    Binder and Colab links; and where the page has a plotly slider, sliding it changes the figure."""
    site, _ = built_site(lesson)
    with serve(site) as base, offline_page(browser, base) as page:
        page.goto(f"{base}/lessons/{lesson}.html", wait_until="load")    # the whole page parsed, its scripts run;
        r = page.evaluate(PAGE_CHECK)                                   # PAGE_CHECK waits for images, figures, maths
        quiet_network(page)                                             # a late request still reaches page.problems
        assert r["images"] > 0 and not r["broken"], r
        assert not r["widgetError"] and r["widgetViews"] == 0, r
        assert r["drawn"] >= r["plotly"] > 0 or r["plotly"] == 0, r
        assert r["overflowing"] == 0, f"{lesson}: a plotly figure wider than its column (its right part hidden) {r}"
        assert r["notes"] == r["sliders"] + r["strips"] >= 1, f"{lesson}: kernel-free copies {r}"
        assert not r["traceback"], f"{lesson}: a cell printed an error"
        assert r["binder"] and r["colab"], f"{lesson}: no Binder or Colab link {r}"
        assert r["rawMath"] == 0 and r["mathErrors"] == 0 and r["math"] >= r["mathSpans"], f"{lesson}: equations {r}"
        assert r["mathInk"] == r["math"], f"{lesson}: an equation drawn with no glyph {r}"   # typeset, and drawn
        if r["sliders"]:
            k = page.evaluate("() => [...document.querySelectorAll('.plotly-graph-div')]"
                              ".findIndex(g => g.querySelector('.slider-container'))")
            active = page.evaluate(f"() => document.querySelectorAll('.plotly-graph-div')[{k}].layout.sliders[0].active")
            slide_plotly(page, k, 1 if active == 0 else 0)     # another position than the one shown
        assert not page.problems, page.problems
