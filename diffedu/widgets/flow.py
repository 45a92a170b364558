"""Lesson 13 — Euler paths of velocity models side by side (before and after reflow): steps and time sliders."""
from __future__ import annotations

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np
import torch

from ..flow import euler_sample, straightness
from ..plotting import show, use_style
from ..samplers import Recorder
from ._base import live, player

STEPS = (1, 2, 3, 4, 6, 8, 12, 16, 25, 50)
N_TIMES = 41


@torch.no_grad()
def euler_paths(model, x1: torch.Tensor, steps: int) -> np.ndarray:
    """The Euler-``steps`` path of every particle from the noise x1 (t = 1) to t = 0: (steps + 1, n, 2) array."""
    rec = Recorder(every=1, start=x1)
    euler_sample(model, x1, steps, callback=rec)
    return torch.stack(rec.frames).double().numpy()


def at_time(paths: np.ndarray, t: float) -> np.ndarray:
    """Where the particles are at time t along their Euler paths (uniform grid from t = 1 to 0): between two grid
    times an Euler step is a straight segment, so linear interpolation is the path itself."""
    k = paths.shape[0] - 1
    u = (1.0 - t) * k                       # how many steps done
    i = min(int(np.floor(u)), k - 1)
    frac = u - i
    return (1 - frac) * paths[i] + frac * paths[i + 1]


def flow_paths(models: dict, background=None, n: int = 300, trails: int = 40, seed: int = 0, lim: float = 3.5,
               reference: int = 50):
    """One panel per velocity model in ``models`` ({name: model on ``Linear``}), all from the same noise.

    steps: the number of Euler steps (the dots on each path are its grid points).
    t:     move the particles along their paths from the noise (t = 1) to the samples (t = 0).
    Each title gives the median straightness (path length over chord, ``flow.straightness``) of the model's
    ``reference``-step Euler paths — its ODE's own curvature, whatever the slider says — and the network
    evaluations of the chosen steps.
    """
    if not isinstance(models, dict) or not models:
        raise ValueError("models must be a non-empty dict {name: model}")
    x1 = torch.randn(n, 2, generator=torch.Generator().manual_seed(seed))
    cache: dict = {}

    def paths(name, k):
        if (name, k) not in cache:
            cache[(name, k)] = euler_paths(models[name], x1, k)
        return cache[(name, k)]

    curv = {name: float(straightness(torch.from_numpy(paths(name, reference))).median()) for name in models}

    def draw(steps, frame):
        use_style()
        t = 1.0 - frame / (N_TIMES - 1)
        fig, axes = plt.subplots(1, len(models), figsize=(4.4 * len(models), 4.6), squeeze=False)
        for ax, name in zip(axes[0], models):
            p = paths(name, steps)
            if background is not None:
                background(ax)
            m = min(trails, n)  # the trails as one NaN-separated line: one artist, not one per path
            lines = np.concatenate([p[:, :m], np.full((1, m, 2), np.nan)]).transpose(1, 0, 2).reshape(-1, 2)
            ax.plot(lines[:, 0], lines[:, 1], "-", lw=0.7, color="k", alpha=0.3)
            if steps <= 12:
                ax.plot(lines[:, 0], lines[:, 1], ".", ms=2.5, color="k", alpha=0.4)
            now = at_time(p, t)
            ax.scatter(now[:, 0], now[:, 1], s=5, c="#d62728", alpha=0.6, lw=0)
            ax.set(xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal",
                   title=f"{name}: Euler-{steps}, t = {t:.2f}\n"
                         f"median straightness {curv[name]:.3f} (Euler-{reference})")
        fig.tight_layout()
        show(fig)

    steps = W.SelectionSlider(options=list(STEPS), value=STEPS[-1], description="Euler steps",
                              continuous_update=False, layout=W.Layout(width="420px"))
    play, slider, controls = player(N_TIMES, interval_ms=100, description="frame", value=N_TIMES - 1)
    box = live(draw, {"steps": steps, "frame": slider}, header=W.VBox([steps, controls]))
    box.controls = {"steps": steps, "frame": slider, "play": play}
    box.straightness = curv
    return box
