"""The lessons' widgets in a real browser: run a notebook in JupyterLab, move every control, see its figure change."""
import pytest

from jupyterlab_browser import (LESSONS as LESSON_DIR, chromium, drag, figure_of, lab_server,  # noqa: F401 (fixtures)
                                lesson_page, notifications, open_and_run_all, save_lesson, wait_for_change)
from widget_controls import control, controls, timed_move, wait_redrawn

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LESSONS = sorted(p.name for p in LESSON_DIR.glob("[0-9][0-9]_*.ipynb"))
# lessons 08 on run in test_browser_late.py: make test's two workers take a file each (--dist loadfile)
EARLY, LATE = [n for n in LESSONS if n < "08"], [n for n in LESSONS if n >= "08"]


@pytest.mark.parametrize("notebook", EARLY, ids=[n[:2] for n in EARLY])
def test_every_control_of_every_widget_redraws_its_figure(lab_server, chromium, tmp_path, notebook):
    run_lesson(lab_server, chromium, tmp_path, notebook)


def run_lesson(lab_server, chromium, tmp_path, notebook):
    """Run the lesson in JupyterLab, then move each control once (the way a student does: a key on a slider, the
    next option of a dropdown, a click) and see its figure change on screen — image or plotly graph; then drag
    the first slider with the mouse; in lesson 10, also a misspelt prompt. No notification covers the lesson (the
    "Jupyter news?" question is turned off by binder/overrides.json). One server and one browser serve every
    lesson; each lesson has its own page, and its kernel is shut down after it. Under make test the lesson, once
    run, is saved for the course site's build (``save_lesson``: one run serves both)."""
    with lesson_page(chromium, lab_server, tmp_path) as (page, workspace):
        open_and_run_all(page, lab_server.base, lab_server.token, notebook, timeout_ms=400_000, workspace=workspace)
        save_lesson(page, lab_server, notebook)
        page.wait_for_timeout(1000)
        toasts = notifications(page)
        assert not toasts, f"{notebook}: a notification is showing over the lesson: {toasts}"
        found = controls(page)
        assert found, f"{notebook}: no widget control with a figure found"
        stuck = []
        for c in found:
            select = control(page, c).locator("select")
            start = select.evaluate("s => s.selectedIndex") if c["kind"] == "dropdown" else None
            if timed_move(page, c, timeout_s=120, quiet_ms=300)["ms"] is None:
                stuck.append(f"{c['label'] or c['kind']} ({c['kind']})")
            if start is not None:    # back where it was: lesson 01's β sliders move only for "linear"
                select.select_option(index=start)
                page.wait_for_timeout(800)
        sliders = [c for c in found if c["kind"] == "slider"]
        if sliders:                  # and a mouse drag (not only keys) reaches the kernel: the first slider
            handle = control(page, sliders[0]).locator(".noUi-handle").first
            value = handle.get_attribute("aria-valuenow")
            page.evaluate(f"() => window.__dd.arm('{sliders[0]['figure']}')")
            drag(page, handle, -120 if float(value) > float(handle.get_attribute("aria-valuemin")) else 120)
            assert handle.get_attribute("aria-valuenow") != value
            assert wait_redrawn(page), f"{notebook}: dragging {sliders[0]['label']} did not change the figure"
        if notebook.startswith("10_"):  # in the same run (one run of lesson 10 less in CI)
            _typing_a_prompt_redraws_the_digits_and_an_unknown_word_is_named(page)
        if notebook.startswith("00_"):
            _the_families_margins_hold_every_data_set(page, found)
        page.screenshot(path=str(tmp_path / f"{notebook}.png"))
        assert not stuck, f"{notebook}: moving {stuck} did not change the figure"


def _typing_a_prompt_redraws_the_digits_and_an_unknown_word_is_named(page):
    """Lesson 10's prompt box: a new prompt redraws the digits; a misspelt word is named and leaves them."""
    box = page.locator(".widget-text:has(> label.widget-label:text-is('prompt')) input").first
    box.wait_for(timeout=60_000)
    box.scroll_into_view_if_needed()
    figure = figure_of(box)
    before = figure.get_attribute("src")
    box.fill("a thick four")                            # not the prompt the control loop typed
    box.press("Enter")
    after = wait_for_change(page, figure, before, timeout_s=120)
    box.fill("a thik two")
    box.press("Enter")
    page.get_by_text("unknown word 'thik'").first.wait_for(timeout=30_000)
    assert figure.get_attribute("src") == after        # a bad prompt leaves the last figure in place


_MARGINS = """id => { const g = document.querySelector(`[data-dd-figure="${id}"] .js-plotly-plot`);
                      if (!g) return null;
                      const L = g._fullLayout;
                      return {drawn: [L._size.l, L._size.r, L._size.t, L._size.b].map(Math.round),
                              set: [L.margin.l, L.margin.r, L.margin.t, L.margin.b]}; }"""


def _the_families_margins_hold_every_data_set(page, found):
    """Lesson 00's families figure keeps the margins it was given for every data set: its loss axes' tick labels
    fit inside them, so a switch is drawn once — a label that pushes a margin (automargin is on, so it pushes
    rather than being clipped) makes plotly lay the figure out and draw it a second time (the switch took 246 ms
    instead of 147–150; benchmarks/README.md, lesson 00 in the browser)."""
    data = [c for c in found if c["label"] == "data"]
    assert data, f"lesson 00: no 'data' dropdown among {[c['label'] for c in found]}"
    c = data[0]
    for i in range(control(page, c).locator("option").count()):     # every data set, back to the first
        assert timed_move(page, c, i, timeout_s=60, quiet_ms=300)["ms"] is not None, f"data set {i + 1}: not drawn"
        m = page.evaluate(_MARGINS, c["figure"])
        assert m is not None, "lesson 00: the families figure is not a plotly graph"
        assert m["drawn"] == m["set"], f"lesson 00, data set {i + 1}: margins pushed from {m['set']} to {m['drawn']}"
