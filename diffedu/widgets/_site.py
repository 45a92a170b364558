"""Kernel-free copies of the widgets, for the course site (``make site`` sets ``DIFFEDU_SITE=1``).

A static web page has no kernel to answer a slider, so in site mode every widget shows, instead of its live
controls, the same figure with ONE slider whose positions were all computed when the page was built:

* a plotly widget (``live_plotly``) becomes a plain plotly figure whose ``layout.sliders`` steps animate to
  precomputed frames (``plotly_slider``); a frame carries only the traces and layout entries that differ
  between positions, so the browser restyles a few arrays per move instead of rebuilding the figure;
* an image widget (``_base.live``: the CFG scale, the distilled student, …) becomes a strip of precomputed PNG
  grids behind an ``<input type=range>`` (``image_slider``): a move swaps the image's source.

Which control gets the slider: the widget names it (``site=``), or the first slider among its controls; every
other control stays at its default, which the caption says. The notebooks need no edits, and without
``DIFFEDU_SITE`` nothing here runs: JupyterLab shows the live widgets as before. With ``DIFFEDU_SITE=live``
(``make test``) a widget is live AND its output carries the copy as HTML: JupyterLab draws the widget, and the
notebook JupyterLab saves is the site's page, built without running the lesson again. Plotly.js is not embedded in
each figure: the site serves it once (``site/conf.py``), and plain ``fig.show()`` figures use the ``diffedu_site``
renderer registered here, which writes the figure without plotly.js either.
"""
from __future__ import annotations

import base64
import html
import json
import os
import pickle
import uuid

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
from plotly.io._base_renderers import MimetypeRenderer

from ..config import site_mode

SLIDERS = (W.IntSlider, W.FloatSlider, W.FloatLogSlider, W.SelectionSlider)
CHOICES = (W.Dropdown, W.SelectionSlider, W.ToggleButtons, W.RadioButtons)


def enabled() -> bool:
    """True while the course site is built (``DIFFEDU_SITE=1``): a widget shows its kernel-free copy only."""
    return site_mode() == "1"


def beside_live() -> bool:
    """True with ``DIFFEDU_SITE=live`` (``make test``'s browser runs): a widget shows live and also offers its
    kernel-free copy as HTML in the same output, for a site built from the saved notebooks."""
    return site_mode() == "live"


def max_steps(kind: str) -> int:
    """Slider positions precomputed per widget: plotly frames are cheap (numbers), image grids are sampled.
    ``$DIFFEDU_SITE_STEPS`` overrides both."""
    if os.environ.get("DIFFEDU_SITE_STEPS"):
        return max(2, int(os.environ["DIFFEDU_SITE_STEPS"]))
    from ..config import pick

    return pick(gpu=21, cpu=21, fast=6) if kind == "plotly" else pick(gpu=11, cpu=7, fast=3)


def choose_control(controls: dict, site: str | None = None) -> str:
    """The control the kernel-free copy slides: ``site`` if given, else the first slider, else the first
    choice (a dropdown) — passing over a control with a single position (lesson 03's one-level σ slider)."""
    if site is not None:
        if site not in controls:
            raise ValueError(f"site must name one of the controls {sorted(controls)}, got {site!r}")
        return site
    for kinds in (SLIDERS, CHOICES):
        for k, c in controls.items():
            if isinstance(c, kinds) and len(control_values(c, 2)[0]) > 1:
                return k
    raise ValueError(f"no slider or choice with two positions among the controls {sorted(controls)} to precompute")


def control_values(control, n_max: int) -> tuple[list, list[str], int]:
    """(values, labels, index of the control's current value): every position of the control, thinned evenly
    to at most ``n_max`` with the current value always kept."""
    if isinstance(control, CHOICES):
        values, labels = list(control._options_values), [str(x) for x in control._options_labels]
    elif isinstance(control, W.FloatLogSlider):
        exps = np.arange(control.min, control.max + control.step / 2, control.step)
        values = [float(control.base ** e) for e in exps]
        labels = [f"{v:.3g}" for v in values]
    elif isinstance(control, W.IntSlider):
        values = list(range(control.min, control.max + 1, control.step))
        labels = [str(v) for v in values]
    elif isinstance(control, W.FloatSlider):
        values = [round(float(v), 10) for v in np.arange(control.min, control.max + control.step / 2, control.step)]
        labels = [f"{v:g}" for v in values]
    else:
        raise TypeError(f"cannot precompute a {type(control).__name__}")
    cur = _nearest(values, control.value)
    keep = sorted(set(np.linspace(0, len(values) - 1, min(n_max, len(values))).round().astype(int).tolist()))
    if cur not in keep:   # the current value replaces its nearest kept neighbour
        keep[int(np.argmin([abs(k - cur) for k in keep]))] = cur
        keep = sorted(set(keep))
    values[cur] = control.value
    return [values[k] for k in keep], [labels[k] for k in keep], keep.index(cur)


def _nearest(values: list, v) -> int:
    if v in values:
        return values.index(v)
    return int(np.argmin([abs(float(x) - float(v)) for x in values]))


def _positions(fn, values: list, labels: list, active: int):
    """``fn(value)`` at every position: (results, their labels, index of the active one, the failed positions).
    A position where the widget raises ValueError (a Langevin step so large that the particles diverge: the
    live widget shows the error there) is left out of the copy and named in its caption."""
    results, kept, failed = [], [], []
    for i, (v, lab) in enumerate(zip(values, labels)):
        try:
            results.append(fn(v))
            kept.append(i)
        except ValueError as e:
            if i == active:
                raise
            failed.append(f"{lab}: {e}")
    if len(kept) < 2:   # a copy that cannot slide: say so at build time rather than ship a dead slider
        why = f" (the others failed: {'; '.join(failed)})" if failed else " (the control has one position)"
        raise ValueError(f"only the shown position of the kernel-free copy could be computed{why}: give it more "
                         "positions (DIFFEDU_SITE_STEPS) or another control")
    return results, [labels[i] for i in kept], kept.index(active), failed


def _caption(controls: dict, key: str, n: int, failed=()) -> str:
    desc = lambda c, k: getattr(c, "description", "") or k  # noqa: E731
    fixed = [f"{html.escape(desc(c, k))} = {html.escape(_shown(c))}" for k, c in controls.items()
             if k != key and hasattr(c, "value") and not isinstance(c, W.Play)]
    return (f"<p class='diffedu-site-note' style='font-size:0.85em;color:#555;margin:2px 0'>Kernel-free copy: "
            f"the {n} positions of <b>{html.escape(desc(controls[key], key))}</b> were computed when this page was "
            f"built" + (f" (fixed: {', '.join(fixed)})" if fixed else "")
            + (f"; left out, where the widget stops with an error: {html.escape('; '.join(failed))}" if failed else "")
            + "; in JupyterLab every control of this widget is live.</p>")


def _shown(c) -> str:
    if isinstance(c, CHOICES):
        return str(c.label)
    return f"{c.value:g}" if isinstance(c.value, float) else str(c.value)


# ---- plotly: one figure, a slider over precomputed frames

def _slim(v):
    """Arrays as float32 (half the bytes in the page; a figure needs no more precision)."""
    if isinstance(v, dict):
        return {k: _slim(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_slim(x) for x in v]
    if isinstance(v, np.ndarray) and v.dtype == np.float64:
        return v.astype(np.float32)
    return v


ANIMATABLE = ("scatter", "bar")    # trace types that plotly.js moves in place (a transition, no redraw)

# A slider move: the frame's traces moved in place (the whole figure redrawn only where a changed trace is not
# animatable: a heatmap), then the titles and annotations that change set by one relayout. Plotly's own
# method="animate" with redraw rebuilds every panel: 2–3× slower.
SLIDE_JS = """var gd = document.getElementById('{plot_id}');
gd.on('plotly_sliderchange', function (e) {
  var i = e.slider.active, m = gd.layout.meta, done = Promise.resolve();
  if (m.animated) done = Plotly.animate(gd, [String(i)], {mode: 'immediate', transition: {duration: 0},
                                                           frame: {duration: 0, redraw: m.redraw}});
  done.then(function () { return Object.keys(m.relayout[i]).length ? Plotly.relayout(gd, m.relayout[i]) : 0; })
      .then(function () { gd.emit('diffedu_slid', {active: i}); });
});"""


def _leaves(v, path: str = "") -> dict:
    """A layout as {relayout path: value}: ``annotations[0].text``, ``title.text``, …"""
    if isinstance(v, dict):
        out = {}
        for k, x in v.items():
            out.update(_leaves(x, f"{path}.{k}" if path else k))
        return out
    if isinstance(v, (list, tuple)) and v and all(isinstance(x, dict) for x in v):
        out = {}
        for i, x in enumerate(v):
            out.update(_leaves(x, f"{path}[{i}]"))
        return out
    return {path: v}


def plotly_slider(fig: go.Figure, update, controls: dict, site: str | None = None) -> go.Figure:
    """A plain figure whose slider steps through ``update(fig, **values)`` at every position of one control.

    Each position is one frame holding only the traces that change from position to position, and one relayout
    (``layout.meta.relayout``) of the layout entries that change; ``SLIDE_JS`` applies them on a slider move."""
    key = choose_control(controls, site)
    values, labels, active = control_values(controls[key], max_steps("plotly"))
    base = {k: c.value for k, c in controls.items()}

    def state(v):
        f = go.Figure(fig)
        update(f, **{**base, key: v})
        return [t.to_plotly_json() for t in f.data], f.layout.to_plotly_json()

    states, labels, active, failed = _positions(state, values, labels, active)
    sig = lambda o: pickle.dumps(o, protocol=4)  # noqa: E731   (numpy arrays compare by their bytes)
    traces = [i for i in range(len(states[0][0])) if len({sig(s[0][i]) for s in states}) > 1]
    leaves = [_leaves(s[1]) for s in states]
    paths = sorted({p for lv in leaves for p in lv if len({sig(x.get(p)) for x in leaves}) > 1})
    data, layout = states[active]
    out = go.Figure(data=_slim(data), layout=layout)
    out.frames = [go.Frame(name=str(i), traces=traces, data=_slim([s[0][j] for j in traces]))
                  for i, s in enumerate(states)]
    out.layout.meta = {"failed": failed, "animated": bool(traces),
                       "redraw": any(states[0][0][j].get("type", "scatter") not in ANIMATABLE for j in traces),
                       "relayout": [{p: _slim(lv.get(p)) for p in paths} for lv in leaves]}
    desc = getattr(controls[key], "description", "") or key
    below = out.layout.margin.b if out.layout.margin.b is not None else 80    # axis titles, legend: keep clear
    out.update_layout(sliders=[dict(
        active=active, currentvalue=dict(prefix=f"{desc} = "), pad=dict(t=below + 10, b=10), len=0.9, x=0.05,
        steps=[dict(label=lab, method="skip", args=[[str(i)]]) for i, lab in enumerate(labels)])])
    out.update_layout(height=(out.layout.height or 450) + 90, margin=dict(b=below + 90))
    return out


def figure_html(fig: go.Figure, post_script: str | None = None) -> str:
    """The figure as an HTML fragment that uses the page's plotly.js (the site serves it once), as wide as the
    page's column (a lesson's figure may be 960 px wide, the site's column is narrower)."""
    fig = go.Figure(fig).update_layout(width=None, autosize=True)
    return pio.to_html(fig, include_plotlyjs=False, full_html=False, auto_play=False,
                       post_script=[FIT_JS] + ([post_script] if post_script else []),
                       config={"displaylogo": False, "responsive": True})


# plotly draws a figure as wide as its column is while the page is still loading (976 px, seen on the site) and
# "responsive" follows only the window's resizes: the figure overflowed its 704-px column, its right part hidden,
# until the reader resized the window. A ResizeObserver refits it whenever its box changes, and once at the start.
FIT_JS = """var gd = document.getElementById('{plot_id}');
if (window.ResizeObserver) new ResizeObserver(function () { Plotly.Plots.resize(gd); }).observe(gd);"""


def plotly_html(fig: go.Figure, update, controls: dict, site: str | None = None) -> str:
    key = choose_control(controls, site)
    out = plotly_slider(fig, update, controls, site)
    return _caption(controls, key, len(out.frames), out.layout.meta["failed"]) + figure_html(out, SLIDE_JS)


# ---- images: a strip of precomputed grids behind a range input

def image_slider(draw, controls: dict, site: str | None = None) -> str:
    """HTML: the PNG that ``draw(**values)`` displays at each position of one control, an ``<input type=range>``
    that swaps them (no kernel, no plotly.js)."""
    from IPython.utils.capture import capture_output

    key = choose_control(controls, site)
    values, labels, active = control_values(controls[key], max_steps("image"))
    base = {k: c.value for k, c in controls.items()}
    def png(v):
        with capture_output(display=True) as cap:
            draw(**{**base, key: v})
        found = [o.data["image/png"] for o in cap.outputs if "image/png" in o.data]
        if not found:
            raise RuntimeError(f"the widget drew no image at {key} = {v!r}")
        return found[-1] if isinstance(found[-1], str) else base64.b64encode(found[-1]).decode()

    pngs, labels, active, failed = _positions(png, values, labels, active)
    desc = html.escape(getattr(controls[key], "description", "") or key)
    uid = "diffedu-" + uuid.uuid4().hex[:10]
    srcs = json.dumps(["data:image/png;base64," + p for p in pngs])
    return (_caption(controls, key, len(pngs), failed)
            + f"<div class='diffedu-image-slider' id='{uid}'>"
            f"<label style='font-family:sans-serif'>{desc} = <output>{html.escape(labels[active])}</output> "
            f"<input type='range' min='0' max='{len(pngs) - 1}' step='1' value='{active}' style='width:320px'>"
            f"</label><br><img alt='{desc} = {html.escape(labels[active])}' src='data:image/png;base64,"
            f"{pngs[active]}' style='max-width:100%'></div>"
            f"<script>(function(){{var r=document.getElementById('{uid}'),s={srcs},l={json.dumps(labels)},"
            f"i=r.querySelector('input'),o=r.querySelector('output'),g=r.querySelector('img');"
            f"i.addEventListener('input',function(){{var k=+i.value;g.src=s[k];o.textContent=l[k];"
            f"g.alt='{desc} = '+l[k];}});}})();</script>")


# ---- plain plotly figures (fig.show()) on the site: no plotly.js embedded, no CDN

class SiteRenderer(MimetypeRenderer):
    """``fig.show()`` on the site: an HTML fragment that uses the page's plotly.js."""

    def to_mimebundle(self, fig_dict):
        return {"text/html": figure_html(go.Figure(fig_dict))}


def use_site_renderer(beside: str | None = None) -> None:
    """``fig.show()`` as the site's HTML fragment; with ``beside`` (a renderer such as plotly's
    ``plotly_mimetype``) both: JupyterLab draws that one, a site built from the saved notebook the fragment."""
    pio.renderers["diffedu_site"] = SiteRenderer()
    pio.renderers.default = f"{beside}+diffedu_site" if beside else "diffedu_site"
