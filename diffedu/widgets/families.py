"""Lesson 00 — four families learning the same data: their training snapshots side by side.

Each family's training recorded ``compare.Snapshots`` (samples from the same seed every few steps, and the
loss so far); one slider scrubs through all of them at once, snapshot k being k/K of the way through each
family's own run. Top row: the samples over the data (the exact density's contours, or the data's points);
bottom row: the loss, with the current step marked. Everything is computed before the widget is built, so a
slider move only draws.
"""
from __future__ import annotations

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..plotting import DATA, MODEL, NOISE, density_grid, to_np
from ._base import player
from ._plotly import MAX_WIDTH, contour_lines, live_plotly


SHOWN = 300   # points drawn per panel: the page moves every SVG point on a frame; 300 show the shape (benchmarks/README.md,
              # lesson 00 in the browser: snapshot-move median 166 / 149 ms with 600, 145 / 118 with 300)
CURVE = 300   # points of a loss curve drawn: a panel is ~250 px wide


def _smooth(v, k: int = 25) -> np.ndarray:
    """A running median over k steps: noise smoothed, and a few spiking steps (a flow's bad batch) ignored."""
    v = np.asarray(v, dtype=float)
    if len(v) <= 2 * k:
        return v
    return np.median(np.lib.stride_tricks.sliding_window_view(v, k), axis=1)


def _curve(losses) -> tuple:
    """The smoothed loss curve thinned to ≤ CURVE points: (steps, values), and the values' (min, max)."""
    v = _smooth(losses)
    if not len(v):
        return np.empty(0), np.empty(0), (0.0, 0.0)
    x = np.linspace(1, max(len(losses), 1), len(v))
    keep = np.unique(np.linspace(0, len(v) - 1, min(CURVE, len(v))).round().astype(int))
    return x[keep], v[keep], (float(v.min()), float(v.max()))


def _background(mixture=None, data=None, lim: float = 3.5, n: int = 80) -> dict:
    """What is drawn under every frame, computed once: the exact density's contour lines, or data points, as
    (x, y, mode) of one plotly scatter (switching data sets then changes numbers, not trace types)."""
    if mixture is not None:
        xs, p = density_grid(mixture, lim=lim, n=n)
        return dict(zip(("x", "y"), contour_lines(xs, xs, p, levels=5)), mode="lines")
    pts = to_np(data)[:SHOWN] if data is not None else np.empty((0, 2))
    return {"x": pts[:, 0], "y": pts[:, 1], "mode": "markers"}


def _snapshot_index(snap, i: int, frames: int) -> int:
    last = len(snap.frames) - 1
    return min(last, round(i * last / max(frames - 1, 1)))


def families_training(runs: dict, mixtures: dict | None = None, data: dict | None = None, lim: float = 3.5):
    """Widget: scrub (or play) through every family's training at once (plotly: points moved in place).

    runs:     {data set name: {family name: Snapshots}} — one panel per family
    mixtures: {data set name: GaussianMixture} where the density is exact (drawn as contours)
    data:     {data set name: (n, 2) points} for the others (drawn as a faint cloud)
    """
    mixtures, data = mixtures or {}, data or {}
    families = list(dict.fromkeys(f for panels in runs.values() for f in panels))
    frames = max(len(s.frames) for panels in runs.values() for s in panels.values())
    n = len(families)
    fig = make_subplots(rows=2, cols=n, row_heights=[0.75, 0.25], vertical_spacing=0.12, horizontal_spacing=0.04,
                        subplot_titles=families + ["loss (running median)"] * n)
    backgrounds = {k: _background(mixtures.get(k), data.get(k), lim) for k in runs}
    curves = {k: {name: _curve(snap.losses) for name, snap in panels.items()} for k, panels in runs.items()}
    bg = []                                   # one background trace per panel, refilled when the data set changes
    for col in range(1, n + 1):
        fig.add_trace(go.Scatter(x=[], y=[], mode="lines", hoverinfo="skip", line=dict(color=DATA, width=0.7),
                                 marker=dict(size=2, color=DATA), opacity=0.5), row=1, col=col)
        bg.append(len(fig.data) - 1)
    pts, loss, mark = [], [], []
    for col in range(1, n + 1):
        for store, row, kw in ((pts, 1, dict(mode="markers", marker=dict(size=3, color=MODEL, opacity=0.5))),
                               (loss, 2, dict(mode="lines", line=dict(color=NOISE, width=1))),
                               (mark, 2, dict(mode="lines", line=dict(color=MODEL, width=1)))):
            fig.add_trace(go.Scatter(x=[], y=[], hoverinfo="skip", **kw), row=row, col=col)
            store.append(len(fig.data) - 1)
        x = "x" if col == 1 else f"x{col}"
        fig.update_xaxes(range=[-lim, lim], showticklabels=False, row=1, col=col)
        fig.update_yaxes(range=[-lim, lim], showticklabels=False, scaleanchor=x, row=1, col=col)
    # margins wide enough for every data set's loss tick labels: a label that pushed one would make plotly draw the
    # figure twice on a switch (246 → 147 ms in the browser, benchmarks/README.md; tests/test_browser.py checks)
    fig.update_layout(height=500, width=min(MAX_WIDTH, 250 * n + 60), template="plotly_white", showlegend=False,
                      margin=dict(l=48, r=32, t=80, b=30), font=dict(size=11))
    fig.update_annotations(font_size=11)      # the subplot titles: two lines each, within a panel's width

    def update(fig, dataset, frame):
        new_data = getattr(fig, "_diffedu_dataset", None) != dataset   # backgrounds and losses: only on a switch
        if new_data:
            b = backgrounds[dataset]
            for i in bg:
                fig.data[i].x, fig.data[i].y, fig.data[i].mode = b["x"], b["y"], b["mode"]
                fig.data[i].opacity = 0.6 if b["mode"] == "lines" else 0.15
            fig._diffedu_dataset = dataset
        for col, name in enumerate(families):
            snap = runs[dataset].get(name)
            if snap is None:
                fig.data[pts[col]].x = fig.data[pts[col]].y = []
                fig.data[loss[col]].x = fig.data[loss[col]].y = fig.data[mark[col]].x = fig.data[mark[col]].y = []
                continue
            j = _snapshot_index(snap, frame, frames)
            x = snap.frames[j][:SHOWN]
            inside = np.abs(x).max(1) <= lim
            fig.data[pts[col]].x, fig.data[pts[col]].y = x[inside, 0], x[inside, 1]
            out = "" if inside.all() else f", {int((~inside).sum())} of {len(x)} outside"
            fig.layout.annotations[col].text = f"{name}<br>step {snap.steps[j]:,} / {snap.steps[-1]:,}{out}"
            cx, cy, (lo, hi) = curves[dataset][name]
            if new_data:
                fig.data[loss[col]].x, fig.data[loss[col]].y = cx, cy
            step = max(snap.steps[j], 1)
            fig.data[mark[col]].x, fig.data[mark[col]].y = ([step, step], [lo, hi]) if len(cy) else ([], [])
        fig.layout.title.text = f"{dataset}: snapshot {frame} of {frames - 1} (the same fraction of each family's run)"

    play, slider, controls = player(frames, interval_ms=400, description="snapshot")
    dataset = W.Dropdown(options=list(runs), value=next(iter(runs)), description="data")
    box = live_plotly(fig, update, {"dataset": dataset, "frame": slider}, header=W.HBox([dataset, controls]))
    box.controls = {"dataset": dataset, "frame": slider, "play": play}
    return box
