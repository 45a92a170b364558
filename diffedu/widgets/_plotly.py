"""Live plotly figures: data updated in place instead of a whole figure redrawn.

A matplotlib widget renders a new PNG on every slider move (~100–250 ms on a 2-core machine, then the image
travels to the browser); a plotly ``FigureWidget`` keeps one figure in the browser and a move sends only the
numbers that changed, which plotly.js restyles — and the student can hover, zoom and rotate.

``live_plotly(fig, update, controls)`` is ``_base.live`` for plotly: ``update(fig, **values)`` changes the
figure's traces and layout (inside one ``batch_update``, so the browser redraws once). JupyterLab, Notebook 7 and
Binder show the live widget; ``nbconvert --execute`` stores the widgets' state in the notebook (nbclient's
default), which its HTML export renders; the box also offers a static copy of its first figure (``text/html``,
plotly.js from its CDN) to front-ends that run no widgets and fall back to HTML.

The helpers below build 2-D point clouds the way every widget here draws them: many paths, arrows or circles
as ONE NaN-separated line (one SVG path for the browser to redraw, not hundreds) and contour lines computed
once in Python, never by plotly.js on each redraw.

Two rules every figure here keeps (``tests/test_figures.py`` checks them):

* at most ``MAX_WIDTH`` pixels wide: JupyterLab's output area is about 970 px, and a plotly figure wider than
  that is cut off on the right (a matplotlib image is scaled down instead);
* what the kernel drew before the figure was displayed is what the browser shows. A ``FigureWidget`` sends
  each update as a message, and messages sent while its front-end model is still being created (the plotly.js
  bundle loading) are dropped or half-applied: a property set on some traces of a ``batch_update`` (a
  background's ``mode``) came out *unset* on the others, and the GAN, VAE and flow panels of lesson 00 drew
  their samples as lines; the whole figure re-sent as the widget's state at that moment left some figures
  empty. So ``live_plotly`` draws the first frame on a plain figure and only then makes the ``FigureWidget``:
  its opening message carries all of it (as lists: see ``_plain``), and nothing else is sent until a control
  moves.
"""
from __future__ import annotations

import json
import math

import contourpy
import ipywidgets as W
import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
from plotly.subplots import make_subplots

from ..plotting import density_grid
from . import _site
from ._base import SiteBox

MAX_WIDTH = 960   # px: the widest figure that fits JupyterLab's output area (about 970 px) without being cut

if pio.renderers.default == "plotly_mimetype":    # a kernel's default: add HTML (plotly.js from its CDN) so that a
    pio.renderers.default = "plotly_mimetype+notebook_connected"  # notebook shown without one still has the figures
if _site.enabled():                               # the course site serves plotly.js itself (no CDN)
    _site.use_site_renderer()
elif _site.beside_live():                         # JupyterLab draws the mimetype, the site the HTML
    _site.use_site_renderer(beside="plotly_mimetype")


class _FigureBox(SiteBox):
    """A VBox that also offers a static HTML rendering of its figure (for front-ends without a widget manager)."""

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs)
        if getattr(self, "static_html", None):
            bundle["text/html"] = self.static_html
        return bundle


def _plain(fig: go.Figure) -> go.Figure:
    """The figure with its arrays as plain lists (NaN as None: a gap in a line, as before). A FigureWidget opened
    with numpy arrays sends them as binary buffers, and in JupyterLab the first figures of a notebook then came
    up empty now and then (2 runs in 5 of a page of ten widgets; 0 in 6 with lists)."""
    return go.Figure(data=_lists(fig._data), layout=_lists(fig._layout))   # to_dict() would encode arrays again


def _lists(v):
    if isinstance(v, dict):
        return {k: _lists(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_lists(x) for x in v]
    if isinstance(v, np.ndarray):
        return _lists(v.tolist())
    if isinstance(v, float) and v != v:
        return None
    return v


def figure_widget(fig: go.Figure):
    """``go.FigureWidget(fig)``, or None where anywidget (which plotly's FigureWidget needs) is not installed."""
    try:
        return go.FigureWidget(fig)
    except ImportError:
        return None


def live_plotly(fig: go.Figure, update, controls: dict, header=None, busy_text: str | None = None,
                site: str | None = None) -> W.VBox:
    """``update(fig, **values)`` applied to a live copy of ``fig`` whenever a control moves; returns a VBox
    (``.figure`` the live figure). Without anywidget the figure is redrawn whole into an Output instead.
    site: the control that the course site's kernel-free copy slides (default: the first slider)."""
    status = W.HTML("")
    first = go.Figure(fig)
    update(first, **{k: c.value for k, c in controls.items()})
    if _site.enabled():      # the site shows a plain figure with precomputed slider steps; no live widget
        box = _FigureBox([header] if header is not None else [])
        box.figure, box.site_render = first, lambda: _site.plotly_html(fig, update, controls, site)
        return box
    live = figure_widget(_plain(first))      # created whole: the message that opens it carries the first figure
    out = None if live is not None else W.Output()
    target = live if live is not None else first

    def refresh(_=None):
        values = {k: c.value for k, c in controls.items()}
        if busy_text:
            status.value = f"<i>{busy_text}</i>"
        try:
            if live is not None:
                with live.batch_update():
                    update(live, **values)
            else:
                update(target, **values)
                out.clear_output(wait=True)
                with out:
                    target.show()
        finally:
            status.value = ""

    if live is None:
        refresh()
    for c in controls.values():
        c.observe(refresh, "value")
    parts = ([header] if header is not None else []) + ([status] if busy_text else [])
    box = _FigureBox(parts + [live if live is not None else out])
    box.figure = target
    if _site.beside_live():     # the kernel-free copy fills text/html: no CDN copy to make
        box.site_render = lambda: _site.plotly_html(fig, update, controls, site)
    else:
        box.static_html = go.Figure(target).to_html(full_html=False, include_plotlyjs="cdn")
    return box


# ---- 2-D point clouds: panels with a fixed square view, a density drawn once, points and trails moved in place

def point_panels(titles, lim: float = 3.5, height: int = 420, width_each: int = 400, per_row: int | None = None
                 ) -> go.Figure:
    """Square panels over [−lim, lim]², no ticks (the widgets' 2-D view): ``per_row`` a row (default: all in one),
    ``height`` the height of one row; panels narrow to keep the figure within ``MAX_WIDTH``. Panel k (1, 2, …,
    row by row) is what ``add_density``, ``add_points`` and ``add_lines`` call ``col``."""
    n = len(titles)
    per_row = min(per_row or n, n)
    rows = math.ceil(n / per_row)
    width_each = min(width_each, (MAX_WIDTH - 60) // per_row)
    total = 80 + rows * (height - 80) + (rows - 1) * 50
    fig = make_subplots(rows=rows, cols=per_row, subplot_titles=list(titles), horizontal_spacing=0.04,
                        vertical_spacing=50 / total if rows > 1 else 0.0)
    for i in range(1, n + 1):
        r, c = _cell(fig, i)
        x = "x" if i == 1 else f"x{i}"
        fig.update_xaxes(range=[-lim, lim], showticklabels=False, row=r, col=c)
        fig.update_yaxes(range=[-lim, lim], showticklabels=False, scaleanchor=x, row=r, col=c)
    fig.update_layout(height=total, width=width_each * per_row + 60, margin=dict(l=20, r=20, t=60, b=20),
                      template="plotly_white", showlegend=False)
    return fig


def _cell(fig: go.Figure, panel: int) -> tuple[int, int]:
    """(row, col) of panel 1, 2, … of a ``make_subplots`` grid, counted row by row."""
    cols = len(fig._grid_ref[0])
    return (panel - 1) // cols + 1, (panel - 1) % cols + 1


def add_density(fig: go.Figure, mixture, col: int = 1, lim: float = 3.5, n: int = 100, color: str = "#1f77b4",
                a: float = 1.0, b: float = 0.0) -> None:
    """Contour lines of a mixture's exact density (at x = a x_0 + b ε) under panel ``col``; drawn once (as lines:
    plotly.js would otherwise contour the grid again on every redraw)."""
    xs, p = density_grid(mixture, a, b, lim, n)
    cx, cy = contour_lines(xs, xs, p)
    r, c = _cell(fig, col)
    fig.add_trace(go.Scatter(x=cx, y=cy, mode="lines", hoverinfo="skip", line=dict(color=color, width=0.8),
                             opacity=0.7), row=r, col=c)


def add_points(fig: go.Figure, col: int = 1, color: str = "#d62728", size: float = 3, opacity: float = 0.55,
               name: str = "x") -> int:
    """An empty scatter in panel ``col`` (filled by the update); returns its index in ``fig.data``."""
    r, c = _cell(fig, col)
    fig.add_trace(go.Scatter(x=[], y=[], mode="markers", name=name, hoverinfo="skip",
                             marker=dict(size=size, color=color, opacity=opacity)), row=r, col=c)
    return len(fig.data) - 1


def add_lines(fig: go.Figure, col: int = 1, color: str = "black", width: float = 0.7, opacity: float = 0.35,
              mode: str = "lines") -> int:
    """An empty line trace (many paths as one NaN-separated line) in panel ``col``; returns its index."""
    r, c = _cell(fig, col)
    fig.add_trace(go.Scatter(x=[], y=[], mode=mode, hoverinfo="skip", line=dict(color=color, width=width),
                             marker=dict(size=3, color=color), opacity=opacity), row=r, col=c)
    return len(fig.data) - 1


def trails(paths, m: int):
    """The first m particles' paths (frames, n, 2) as one NaN-separated polyline: (x, y) arrays."""
    p = np.asarray(paths)[:, :m]
    lines = np.concatenate([p, np.full((1, p.shape[1], 2), np.nan)]).transpose(1, 0, 2).reshape(-1, 2)
    return lines[:, 0], lines[:, 1]


def arrow_lines(points, vectors, length: float = 0.25, head: float = 0.3):
    """Arrows (quiver) as one NaN-separated polyline: from each point along its vector (scaled by ``length``),
    with a two-stroke head ``head`` × the arrow long at ±25°. points, vectors: (n, 2) arrays; returns (x, y).
    Each arrow is one unbroken piece (shaft, left stroke out and back, right stroke): plotly draws every piece as
    its own SVG path and re-styles each on a redraw, so one piece an arrow instead of two halves the page's work."""
    p, v = np.asarray(points, dtype=float), np.asarray(vectors, dtype=float) * length
    tip = p + v
    c, s = np.cos(np.radians(25)), np.sin(np.radians(25))
    back = -v * head
    left = tip + np.stack([c * back[:, 0] - s * back[:, 1], s * back[:, 0] + c * back[:, 1]], 1)
    right = tip + np.stack([c * back[:, 0] + s * back[:, 1], -s * back[:, 0] + c * back[:, 1]], 1)
    nan = np.full_like(p, np.nan)
    seg = np.stack([p, tip, left, tip, right, nan], 1).reshape(-1, 2)     # 6 vertices an arrow
    return seg[:, 0], seg[:, 1]


def circles(centres, radii, n: int = 48):
    """Circles as one NaN-separated polyline: (x, y) arrays."""
    a = np.linspace(0, 2 * np.pi, n)
    c, r = np.asarray(centres, dtype=float), np.asarray(radii, dtype=float)
    ring = np.concatenate([c[:, None, :] + r[:, None, None] * np.stack([np.cos(a), np.sin(a)], 1)[None],
                           np.full((len(c), 1, 2), np.nan)], 1).reshape(-1, 2)
    return ring[:, 0], ring[:, 1]


def contour_lines(x, y, z, levels: int = 6):
    """Iso-lines of z (shape (len(y), len(x))) at ``levels`` evenly spaced heights, as one NaN-separated polyline
    (x, y) — computed once here (contourpy, matplotlib's contouring) instead of by plotly.js on every redraw."""
    z = np.asarray(z, dtype=float)
    gen = contourpy.contour_generator(np.asarray(x, dtype=float), np.asarray(y, dtype=float), z)
    pieces = [np.vstack([seg, [np.nan, np.nan]]) for h in np.linspace(z.min(), z.max(), levels + 2)[1:-1]
              for seg in gen.lines(h)]
    xy = np.vstack(pieces) if pieces else np.empty((0, 2))
    return xy[:, 0], xy[:, 1]
