"""Lesson 01 — the forward process animated: a 2-D data set dissolving into N(0, I)."""
from __future__ import annotations

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np
import torch

from .. import schedules
from ..forward import q_sample
from ..plotting import DATA, NOISE, show, to_np, use_style
from ._base import live, player


def forward_frame(x0: torch.Tensor, eps: torch.Tensor, sched, t: int) -> torch.Tensor:
    """x_t for fixed (x_0, ε): the same noise at every t, so the points move smoothly."""
    return x0 if t == 0 else q_sample(x0, t, sched, noise=eps)


_XS = np.linspace(-4, 4, 200)
_GAUSS = np.exp(-_XS**2 / 2) / np.sqrt(2 * np.pi)


def draw_forward(xt: np.ndarray, t: int, alpha_bar: float):
    """One frame: the points x_t (left) and the first coordinate's histogram against N(0, 1) (right)."""
    use_style()
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.9), gridspec_kw={"width_ratios": [1, 1.2]})
    fig.subplots_adjust(left=0.06, right=0.98, bottom=0.12, top=0.9, wspace=0.25)
    for r in (1, 2):
        a.add_patch(plt.Circle((0, 0), r, fill=False, ls="--", color=NOISE, lw=0.8))
    a.scatter(xt[:, 0], xt[:, 1], s=3, c=DATA, alpha=0.5, lw=0)
    a.set(xlim=(-4, 4), ylim=(-4, 4), aspect="equal", title=f"x_t at t = {t}   (ᾱ_t = {alpha_bar:.3f})")
    counts, edges = np.histogram(xt[:, 0], bins=60, range=(-4, 4), density=True)
    b.stairs(counts, edges, fill=True, color=DATA, alpha=0.6, label="x_t, first coord.")
    b.plot(_XS, _GAUSS, color="k", lw=1.2, label="N(0, 1)")
    b.set(ylim=(0, 1.2), title=f"mean {xt[:, 0].mean():+.2f}, variance {xt[:, 0].var():.2f}")
    b.legend(loc="upper right")
    show(fig)


def forward_animation(x0: torch.Tensor, T: int = 1000, frames: int = 100, seed: int = 0):
    """Play / slide t from 0 to T; pick the schedule. Left: the points x_t; right: the marginal of the
    first coordinate against N(0, 1)."""
    x0 = x0.detach().cpu().double()
    eps = torch.randn(x0.shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    scheds = {k: schedules.make(k, T) for k in ("linear", "cosine", "sigmoid")}
    ts = np.unique(np.linspace(0, T, frames + 1).round().astype(int))

    def draw(kind, frame):
        s, t = scheds[kind], int(ts[frame])
        draw_forward(to_np(forward_frame(x0, eps, s, t)), t, float(s.alpha_bars[t]))

    play, slider, controls = player(len(ts), description="frame")
    kind = W.Dropdown(options=list(scheds), value="linear", description="schedule")
    box = live(draw, {"kind": kind, "frame": slider}, header=W.HBox([kind, controls]))
    box.controls = {"kind": kind, "frame": slider, "play": play}
    return box


def trajectory_player(frames, times, background=None, title="reverse process", paths: int = 20,
                      lim: float = 3.5):
    """Animate a list of (n, 2) point sets, e.g. recorded by a sampler's callback.

    background(ax, i) may draw something under frame i (a density, a score field). The first ``paths``
    particles leave a trail so that individual trajectories can be followed.
    """
    arr = np.stack([to_np(f) for f in frames])          # (n_frames, n, 2)

    def draw(frame):
        use_style()
        fig, ax = plt.subplots(figsize=(4.6, 4.6))
        if background is not None:
            background(ax, frame)
        ax.scatter(arr[frame, :, 0], arr[frame, :, 1], s=3, c="#d62728", alpha=0.55, lw=0)
        for j in range(min(paths, arr.shape[1])):
            ax.plot(arr[: frame + 1, j, 0], arr[: frame + 1, j, 1], lw=0.6, color="k", alpha=0.35)
        ax.set(xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal", title=f"{title}: {times[frame]}")
        fig.tight_layout()
        show(fig)

    play, slider, controls = player(len(arr), description="step")
    box = live(draw, {"frame": slider}, header=controls)
    box.controls = {"frame": slider, "play": play}
    return box
