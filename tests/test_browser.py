"""The lessons' widgets in a real browser: run a notebook in JupyterLab, move a slider, see its figure change."""
import pytest

from jupyterlab_browser import (browser_page, drag, figure_of, jupyterlab, open_and_run_all, require_browser,
                                slider, wait_for_change)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CASES = [  # notebook, slider label, which slider with that label, drag in px, the value it starts at
    pytest.param("00_generative_models.ipynb", "snapshot", 0, 150, "0.0", id="families-snapshots"),  # the 4 families
    pytest.param("01_forward_process.ipynb", "T", 0, -120, "1000.0", id="schedule-explorer"),
    pytest.param("03_score_matching.ipynb", "σ", 1, 150, None, id="score-field"),  # #0 has a single level
    pytest.param("07_guidance.ipynb", "w", 0, 120, "3.0", id="cfg-scale"),
    pytest.param("08_cifar_dit.ipynb", "w", 0, 120, "3.0", id="cifar-cfg-scale"),  # U-Net and DiT rows together
    pytest.param("09_latent_cascade.ipynb", "s", 0, 120, None, id="augmentation-level"),  # the SR model at level s
    pytest.param("11_fine_tuning.ipynb", "s_box", 0, -120, "1.0", id="lora-scale"),  # the box LoRA's strength
    pytest.param("12_distillation.ipynb", "w", 0, 120, "3.0", id="distilled-cfg-scale"),  # w is the student's input
]


@pytest.mark.parametrize("notebook, label, nth, dx, start", CASES)
def test_slider_redraws_its_figure(tmp_path, notebook, label, nth, dx, start):
    require_browser()
    with jupyterlab(tmp_path) as (base, token), browser_page(tmp_path) as page:
        open_and_run_all(page, base, token, notebook, timeout_ms=400_000)
        handle = slider(page, label, nth)
        handle.wait_for(timeout=60_000)
        handle.scroll_into_view_if_needed()
        figure = figure_of(handle)
        before_src, before_value = figure.get_attribute("src"), handle.get_attribute("aria-valuenow")
        if start is not None:
            assert before_value == start
        drag(page, handle, dx)
        wait_for_change(page, figure, before_src, timeout_s=120)
        after_value = handle.get_attribute("aria-valuenow")
        assert after_value != before_value
        if start is not None:  # moved the way it was dragged
            assert (float(after_value) > float(before_value)) == (dx > 0)
        page.screenshot(path=str(tmp_path / f"{notebook}.png"))


def test_typing_a_prompt_redraws_the_digits_and_an_unknown_word_is_named(tmp_path):
    require_browser()
    with jupyterlab(tmp_path) as (base, token), browser_page(tmp_path) as page:
        open_and_run_all(page, base, token, "10_text_conditioning.ipynb", timeout_ms=400_000)
        box = page.locator(".widget-text:has(> label.widget-label:text-is('prompt')) input").first
        box.wait_for(timeout=60_000)
        box.scroll_into_view_if_needed()
        figure = figure_of(box)
        before = figure.get_attribute("src")
        box.fill("a thin slanted two")
        box.press("Enter")
        after = wait_for_change(page, figure, before, timeout_s=120)
        box.fill("a thik two")
        box.press("Enter")
        page.get_by_text("unknown word 'thik'").first.wait_for(timeout=30_000)
        assert figure.get_attribute("src") == after        # a bad prompt leaves the last figure in place
        page.screenshot(path=str(tmp_path / "prompt-box.png"))
