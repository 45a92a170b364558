"""Lesson 00 — four families learning the same data: their training snapshots side by side.

Each family's training recorded ``compare.Snapshots`` (samples from the same seed every few steps, and the
loss so far); one slider scrubs through all of them at once, snapshot k being k/K of the way through each
family's own run. Top row: the samples over the data (the exact density's contours, or the data's points);
bottom row: the loss, with the current step marked. Everything is computed before the widget is built, so a
slider move only draws.
"""
from __future__ import annotations

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np
import torch

from ..plotting import DATA, MODEL, NOISE, show, to_np, use_style
from ._base import live, player


def _smooth(v, k: int = 25) -> np.ndarray:
    """A running median over k steps: noise smoothed, and a few spiking steps (a flow's bad batch) ignored."""
    v = np.asarray(v, dtype=float)
    if len(v) <= 2 * k:
        return v
    return np.median(np.lib.stride_tricks.sliding_window_view(v, k), axis=1)


def _background(mixture=None, data=None, lim: float = 3.5, n: int = 100) -> dict:
    """What is drawn under every frame, computed once: the exact density on a grid, or data points."""
    if mixture is not None:
        xs = torch.linspace(-lim, lim, n, dtype=torch.float64)
        p = mixture.log_prob(torch.cartesian_prod(xs, xs)).exp().reshape(n, n).T.numpy()
        return {"axis": xs.numpy(), "density": p}
    return {"points": to_np(data)[:2000] if data is not None else None}


def draw_families(panels: dict, i: int, background: dict, lim: float = 3.5, title: str = "",
                  frames: int | None = None) -> None:
    """Snapshot i (of ``frames``) of every family in ``panels`` ({name: Snapshots}): samples on top, loss
    curve below. A family with another number of snapshots shows the one at the same fraction of its run."""
    use_style()
    n = len(panels)
    fig, axes = plt.subplots(2, n, figsize=(3.1 * n, 4.9), squeeze=False, gridspec_kw={"height_ratios": [3, 1.1]})
    fig.subplots_adjust(left=0.04, right=0.99, bottom=0.08, top=0.86, wspace=0.28, hspace=0.42)
    for col, (name, snap) in enumerate(panels.items()):
        last = len(snap.frames) - 1
        j = min(last, round(i * last / max(frames - 1, 1))) if frames else min(i, last)
        ax, lx = axes[0, col], axes[1, col]
        if "density" in background:
            ax.contour(background["axis"], background["axis"], background["density"], levels=5, colors=DATA,
                       linewidths=0.7, alpha=0.6)
        elif background.get("points") is not None:
            pts = background["points"]
            ax.scatter(pts[:, 0], pts[:, 1], s=2, c=DATA, alpha=0.15, lw=0)
        x = snap.frames[j]
        inside = np.abs(x).max(1) <= lim
        ax.scatter(x[inside, 0], x[inside, 1], s=2, c=MODEL, alpha=0.5, lw=0)
        ax.set(xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal", xticks=[], yticks=[])
        out = "" if inside.all() else f", {100 * (1 - inside.mean()):.0f} % outside"
        ax.set_title(f"{name}\nstep {snap.steps[j]:,} / {snap.steps[-1]:,}{out}", fontsize=10)
        losses = _smooth(snap.losses)
        if len(losses):
            lx.plot(np.linspace(1, max(len(snap.losses), 1), len(losses)), losses, color=NOISE, lw=0.9)
            lx.axvline(max(snap.steps[j], 1), color=MODEL, lw=1)
        lx.set_title("loss (running median)", fontsize=9)
        lx.tick_params(labelsize=7)
    if title:
        fig.suptitle(title, fontsize=11)
    show(fig)


def families_training(runs: dict, mixtures: dict | None = None, data: dict | None = None, lim: float = 3.5):
    """Widget: scrub (or play) through every family's training at once.

    runs:     {data set name: {family name: Snapshots}} — one panel per family
    mixtures: {data set name: GaussianMixture} where the density is exact (drawn as contours)
    data:     {data set name: (n, 2) points} for the others (drawn as a faint cloud)
    """
    mixtures, data = mixtures or {}, data or {}
    backgrounds = {k: _background(mixtures.get(k), data.get(k), lim) for k in runs}
    frames = max(len(s.frames) for panels in runs.values() for s in panels.values())

    def draw(dataset, frame):
        draw_families(runs[dataset], frame, backgrounds[dataset], lim, frames=frames,
                      title=f"{dataset}: snapshot {frame} of {frames - 1} (the same fraction of each family's run)")

    play, slider, controls = player(frames, interval_ms=400, description="snapshot")
    dataset = W.Dropdown(options=list(runs), value=next(iter(runs)), description="data")
    box = live(draw, {"dataset": dataset, "frame": slider}, header=W.HBox([dataset, controls]))
    box.controls = {"dataset": dataset, "frame": slider, "play": play}
    return box
