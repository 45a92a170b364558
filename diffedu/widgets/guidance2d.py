"""Lesson 07 — the lecture's "2-D visual analogy" of guidance, with exact scores.

A Gaussian mixture whose components carry class labels. For a class y we know exactly
∇log p(x) (the whole mixture), ∇log p(x|y) (its class-y components) and hence the guided field
(1 − γ)∇log p(x) + γ∇log p(x|y). Particles are sampled with DDIM driven by the guided field at every noise
level (the exact guided model, ``guided_model``), so the effect of γ on where samples land (and on their
spread) is visible.
"""
from __future__ import annotations

import ipywidgets as W
import numpy as np
import torch

from ..guidance import guided_score
from ..model import FunctionModel
from ..plotting import grid_points
from ..processes import DiscreteVP
from ..samplers import ddim_sample
from ._plotly import add_lines, add_points, arrow_lines, circles, live_plotly, point_panels
from .score import arrows

CLASS_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728"]


def guided_model(mixture, conditional, gamma: float, process) -> FunctionModel:
    """The exact guided model on ``process``: its score at every t is (1−γ)∇log p_t + γ∇log p_t(·|y)."""
    uncond, cond = mixture.model(process), conditional.model(process)

    def score(x, t):
        return guided_score(uncond.score(x, t), cond.score(x, t), gamma)

    return FunctionModel(score, process, prediction="score")


def within_mode_spread(mixture, x: np.ndarray, components) -> float:
    """Average standard deviation of the samples around each of ``components`` (nearest-mean assignment)."""
    nearest = np.argmin(((x[:, None] - mixture.means.numpy()[None]) ** 2).sum(-1), axis=1)
    means = mixture.means.numpy()
    stds = [(x[nearest == k] - means[k]).std() for k in components if (nearest == k).sum() > 2]
    return float(np.mean(stds)) if stds else float("nan")


def guidance_vectors(mixture, classes: dict, n: int = 300, steps: int = 50, seed: int = 0, lim: float = 3.5):
    """classes: {label: [component indices]}. Sliders: class, γ, the noise level t of the arrows."""
    process = DiscreteVP("linear", 1000)
    pts, _ = grid_points(lim, 21, torch.float64)
    x_T = torch.randn(n, 2, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    cache = {}

    def samples(y, gamma):
        if (y, gamma) not in cache:
            cond = mixture.conditional(classes[y])
            cache[(y, gamma)] = ddim_sample(guided_model(mixture, cond, gamma, process), x_T, steps).numpy()
        return cache[(y, gamma)]

    labels = sorted(classes)
    fig = point_panels(["∇log p(x)", "∇log p(x|y)", "guided", "DDIM samples with the guided score"], lim,
                       height=400, width_each=330, per_row=2)
    rings = {}                         # (panel, class) → the trace of its components' 2-σ circles
    for col in range(1, 5):
        for c in labels:
            rings[(col, c)] = add_lines(fig, col, color=CLASS_COLORS[c % 4], width=1, opacity=0.9)
    i_arrows = [add_lines(fig, col, color="#7f7f7f", width=1, opacity=1) for col in (1, 2, 3)]
    i_pts = add_points(fig, 4, size=4, opacity=0.6)

    def update(fig, y, gamma, t):
        cond = mixture.conditional(classes[y])
        a, b = (float(v) for v in process.alpha_sigma(t))
        s_u, s_c = mixture.score(pts, a, b), cond.score(pts, a, b)
        fields = [("∇log p(x)", s_u, "#7f7f7f"), ("∇log p(x|y)", s_c, CLASS_COLORS[y % 4]),
                  (f"guided, γ = {gamma:g}", guided_score(s_u, s_c, gamma), "#d62728")]
        for col, (title, sc, color) in enumerate(fields, start=1):
            tr = fig.data[i_arrows[col - 1]]
            tr.x, tr.y = arrow_lines(pts.numpy(), arrows(sc.numpy()), length=0.3)
            tr.line.color = color
            fig.layout.annotations[col - 1].text = f"{title}<br>(at t = {t})"
        for col in range(1, 5):
            scale, noise = (a, b) if col < 4 else (1.0, 0.0)
            for c in labels:
                ks = list(classes[c])
                radii = [2 * float((mixture.stds[k] ** 2 * scale**2 + noise**2).sqrt()) for k in ks]
                tr = fig.data[rings[(col, c)]]
                tr.x, tr.y = circles(mixture.means.numpy()[ks] * scale, radii)
        x = samples(y, gamma)
        fig.data[i_pts].x, fig.data[i_pts].y = x[:, 0], x[:, 1]
        spread = within_mode_spread(mixture, x, classes[y])
        fig.layout.annotations[3].text = (f"DDIM samples with the guided score<br>spread within a mode {spread:.3f} "
                                          f"(data {float(mixture.stds[0]):.3f})")

    c = dict(y=W.Dropdown(options=sorted(classes), value=sorted(classes)[0], description="class y"),
             gamma=W.FloatSlider(value=1.0, min=0.0, max=8.0, step=0.5, description="γ", continuous_update=False),
             t=W.IntSlider(value=100, min=1, max=999, step=1, description="arrows at t", continuous_update=False))
    box = live_plotly(fig, update, c, header=W.HBox(list(c.values())), busy_text="sampling…")
    box.controls = c
    return box
