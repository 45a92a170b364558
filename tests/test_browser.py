"""The lessons' widgets in a real browser: run the notebook in JupyterLab, move a slider, see the figure change."""
import pytest

from jupyterlab_browser import (browser_page, drag, figure_of, jupyterlab, open_and_run_all, require_browser,
                                slider, wait_for_change)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_schedule_explorer_slider_redraws_the_figure(tmp_path):
    require_browser()
    with jupyterlab(tmp_path) as (base, token), browser_page(tmp_path) as page:
        open_and_run_all(page, base, token, "01_forward_process.ipynb")
        handle = slider(page, "T")
        handle.wait_for(timeout=60_000)
        handle.scroll_into_view_if_needed()
        figure = figure_of(handle)
        before = figure.get_attribute("src")
        assert handle.get_attribute("aria-valuenow") == "1000.0"
        drag(page, handle, -120)
        after = wait_for_change(page, figure, before)
        assert float(handle.get_attribute("aria-valuenow")) < 1000
        assert after != before
        page.screenshot(path=str(tmp_path / "schedule_explorer.png"))


def test_score_field_noise_slider_redraws_the_field(tmp_path):
    require_browser()
    with jupyterlab(tmp_path) as (base, token), browser_page(tmp_path) as page:
        open_and_run_all(page, base, token, "03_score_matching.ipynb")
        handle = slider(page, "σ", nth=1)  # the multi-scale field (the first one has a single level)
        handle.wait_for(timeout=60_000)
        handle.scroll_into_view_if_needed()
        figure = figure_of(handle)
        before = figure.get_attribute("src")
        start = handle.get_attribute("aria-valuenow")
        drag(page, handle, 150)
        wait_for_change(page, figure, before)
        assert handle.get_attribute("aria-valuenow") != start
        page.screenshot(path=str(tmp_path / "score_field.png"))


def test_cfg_slider_regenerates_the_digits(tmp_path):
    require_browser()
    with jupyterlab(tmp_path) as (base, token), browser_page(tmp_path) as page:
        open_and_run_all(page, base, token, "07_guidance.ipynb", timeout_ms=400_000)
        handle = slider(page, "w")
        handle.wait_for(timeout=60_000)
        handle.scroll_into_view_if_needed()
        figure = figure_of(handle)
        before = figure.get_attribute("src")
        assert handle.get_attribute("aria-valuenow") == "3.0"
        drag(page, handle, 120)
        wait_for_change(page, figure, before, timeout_s=120)
        assert float(handle.get_attribute("aria-valuenow")) > 3.0
        page.screenshot(path=str(tmp_path / "cfg_slider.png"))
