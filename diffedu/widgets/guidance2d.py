"""Lesson 07 — the lecture's "2-D visual analogy" of guidance, with exact scores.

A Gaussian mixture whose components carry class labels. For a class y we know exactly
∇log p(x) (the whole mixture), ∇log p(x|y) (its class-y components) and hence the guided field
(1 − γ)∇log p(x) + γ∇log p(x|y). Particles are sampled with DDIM driven by the guided field at every noise
level (the exact guided model, ``guided_model``), so the effect of γ on where samples land (and on their
spread) is visible.
"""
from __future__ import annotations

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np
import torch

from ..guidance import guided_score
from ..model import FunctionModel
from ..plotting import grid_points, show, use_style
from ..processes import DiscreteVP
from ..samplers import ddim_sample
from ._base import live
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

    def draw(y, gamma, t):
        use_style()
        cond = mixture.conditional(classes[y])
        a, b = (float(v) for v in process.alpha_sigma(t))
        s_u, s_c = mixture.score(pts, a, b), cond.score(pts, a, b)
        fields = [("∇log p(x)", s_u, "#7f7f7f"), ("∇log p(x|y)", s_c, CLASS_COLORS[y % 4]),
                  (f"guided, γ = {gamma:g}", guided_score(s_u, s_c, gamma), "#d62728")]
        fig, axes = plt.subplots(1, 4, figsize=(15, 4))
        comp_class = {k: c for c, ks in classes.items() for k in ks}
        for ax, (title, s, color) in zip(axes[:3], fields):
            for k, m in enumerate(mixture.means.numpy()):
                ax.add_patch(plt.Circle(m * a, 2 * float((mixture.stds[k] ** 2 * a**2 + b**2).sqrt()), fill=False,
                                        color=CLASS_COLORS[comp_class[k] % 4], lw=1))
            v = arrows(s.numpy())
            ax.quiver(pts[:, 0], pts[:, 1], v[:, 0], v[:, 1], color=color, scale=22, width=0.005)
            ax.set(xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal", title=f"{title}\n(at t = {t})")
        x = samples(y, gamma)
        ax = axes[3]
        for k, m in enumerate(mixture.means.numpy()):
            ax.add_patch(plt.Circle(m, 2 * float(mixture.stds[k]), fill=False, color=CLASS_COLORS[comp_class[k] % 4]))
        ax.scatter(x[:, 0], x[:, 1], s=4, c="#d62728", alpha=0.6, lw=0)
        spread = within_mode_spread(mixture, x, classes[y])
        ax.set(xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal",
               title=f"DDIM samples with the guided score\nspread within a mode {spread:.3f} (data {float(mixture.stds[0]):.3f})")
        fig.subplots_adjust(left=0.02, right=0.99, bottom=0.05, top=0.85, wspace=0.12)
        show(fig)

    c = dict(y=W.Dropdown(options=sorted(classes), value=sorted(classes)[0], description="class y"),
             gamma=W.FloatSlider(value=1.0, min=0.0, max=8.0, step=0.5, description="γ", continuous_update=False),
             t=W.IntSlider(value=100, min=1, max=999, step=1, description="arrows at t", continuous_update=False))
    box = live(draw, c, header=W.HBox(list(c.values())))
    box.controls = c
    return box
