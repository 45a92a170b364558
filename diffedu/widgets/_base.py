"""Small building blocks shared by the lesson widgets.

Every widget follows one pattern: controls (sliders, dropdowns) → a pure ``compute`` function (timed by
``benchmarks/``) → a ``draw`` function into an ``ipywidgets.Output``. Nothing here needs a JavaScript
extension beyond ipywidgets itself, so the same widgets run in JupyterLab, Notebook 7 and on Binder.
"""
from __future__ import annotations

import ipywidgets as W

from . import _site


def player(n_frames: int, interval_ms: int = 120, description: str = "step", value: int = 0):
    """A Play button linked to a slider over frames 0..n_frames−1; returns (play, slider, box)."""
    play = W.Play(min=0, max=n_frames - 1, step=1, interval=interval_ms, value=value)
    slider = W.IntSlider(min=0, max=n_frames - 1, value=value, description=description,
                         continuous_update=True, layout=W.Layout(width="420px"))
    W.jslink((play, "value"), (slider, "value"))
    return play, slider, W.HBox([play, slider])


def per_position(fn, control=None, ndigits: int = 6):
    """``fn(value)`` computed once per value and kept (the value rounded: 2.5 from a slider and from a list are one
    entry); with ``control``, computed now at every position it can take, so that no move waits — except while the
    course site is built, whose copy computes only the positions it shows. Returns ``compute(value)``."""
    done = {}

    def compute(value):
        key = round(float(value), ndigits)
        if key not in done:
            done[key] = fn(key)
        return done[key]

    if control is not None and not _site.enabled():
        for v in _site.control_values(control, 10**6)[0]:
            compute(v)
    return compute


class SiteBox(W.VBox):
    """A widget's box; on the course site (``DIFFEDU_SITE=1``) it displays its kernel-free copy instead
    (``site_render()``: HTML with the slider positions precomputed, ``_site``), computed once, at display; with
    ``DIFFEDU_SITE=live`` the live widget and the copy, in one output (JupyterLab draws the widget)."""

    site_render = None

    def _repr_mimebundle_(self, **kwargs):
        if self.site_render is None or not (_site.enabled() or _site.beside_live()):
            return super()._repr_mimebundle_(**kwargs)
        if getattr(self, "_site_html", None) is None:
            self._site_html = self.site_render()
        copy = {"text/plain": f"<{type(self).__name__}: kernel-free copy>", "text/html": self._site_html}
        return copy if _site.enabled() else {**super()._repr_mimebundle_(**kwargs), **copy}


def live(draw, controls: dict, header=None, busy_text: str | None = None, site: str | None = None):
    """``draw(**values)`` re-run into an Output whenever a control moves; returns a VBox.

    busy_text: shown in a label while ``draw`` runs (for updates that take more than a blink).
    site: the control that the course site's kernel-free copy slides (default: the first slider).
    """
    if _site.enabled():      # the site shows precomputed images; the live Output would only be stored, unseen
        box = SiteBox(([header] if header is not None else []) + [W.Output()])
        box.output, box.site_render = box.children[-1], lambda: _site.image_slider(draw, controls, site)
        return box
    status = W.HTML("")

    def wrapped(**kw):
        if busy_text:
            status.value = f"<i>{busy_text}</i>"
        try:
            draw(**kw)
        finally:
            status.value = ""

    out = W.interactive_output(wrapped, controls)   # clears with wait=True: the last figure stays until the next
    # one arrives, so the Output needs no fixed height (a fixed 300 px left a blank band under short figures)
    parts = [header] if header is not None else []
    box = SiteBox(parts + ([status] if busy_text else []) + [out])
    box.output = out  # for tests and notebooks that want the figure area
    if _site.beside_live():
        box.site_render = lambda: _beside(draw, controls, site)
    return box


def _beside(draw, controls: dict, site: str | None) -> str:
    """The kernel-free copy of a live image widget, then ``draw`` once more at the controls' values (its output
    discarded): what ``draw`` sets beside its figure (lesson 14's audio player) is the shown position's again."""
    from IPython.utils.capture import capture_output

    html = _site.image_slider(draw, controls, site)
    with capture_output(display=True):
        draw(**{k: c.value for k, c in controls.items()})
    return html
