"""Small building blocks shared by the lesson widgets.

Every widget follows one pattern: controls (sliders, dropdowns) → a pure ``compute`` function (timed by
``benchmarks/``) → a ``draw`` function into an ``ipywidgets.Output``. Nothing here needs a JavaScript
extension beyond ipywidgets itself, so the same widgets run in JupyterLab, Notebook 7 and on Binder.
"""
from __future__ import annotations

import ipywidgets as W


def player(n_frames: int, interval_ms: int = 120, description: str = "step", value: int = 0):
    """A Play button linked to a slider over frames 0..n_frames−1; returns (play, slider, box)."""
    play = W.Play(min=0, max=n_frames - 1, step=1, interval=interval_ms, value=value)
    slider = W.IntSlider(min=0, max=n_frames - 1, value=value, description=description,
                         continuous_update=True, layout=W.Layout(width="420px"))
    W.jslink((play, "value"), (slider, "value"))
    return play, slider, W.HBox([play, slider])


def live(draw, controls: dict, header=None, busy_text: str | None = None):
    """``draw(**values)`` re-run into an Output whenever a control moves; returns a VBox.

    busy_text: shown in a label while ``draw`` runs (for updates that take more than a blink).
    """
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
    box = W.VBox(parts + ([status] if busy_text else []) + [out])
    box.output = out  # for tests and notebooks that want the figure area
    return box
