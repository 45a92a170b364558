"""Lesson 05 — reverse SDE and probability-flow ODE from the same starting points, side by side."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch

from ..plotting import show, use_style
from ..samplers import Recorder, probability_flow_ode, reverse_sde_sample
from ._base import live, player

N_FRAMES = 40


def sde_ode_paths(model, n: int = 300, steps: int = 200, seed: int = 0):
    """Frames of both samplers on ``model.process.grid(steps)`` (each a list of (n, 2) arrays) from the same
    prior draw, and the time of each frame. The model's process must be continuous (e.g. ``VPSDE``)."""
    g = torch.Generator().manual_seed(seed)
    process = model.process
    x_T = process.prior((n, 2), g, torch.float64)
    ts = process.grid(steps)
    every = max(1, steps // N_FRAMES)
    rec_sde, rec_ode = Recorder(every, start=x_T), Recorder(every, start=x_T)
    reverse_sde_sample(model, x_T, ts, generator=g, callback=rec_sde)
    probability_flow_ode(model, x_T, ts, method="euler", callback=rec_ode)
    times = [float(ts[0])] + [float(t) for t in rec_ode.times[1:]]
    return [f.numpy() for f in rec_sde.frames], [f.numpy() for f in rec_ode.frames], times


def sde_vs_ode(model, background=None, n: int = 300, steps: int = 200, trails: int = 12, lim: float = 3.5):
    """Play the reverse SDE and the probability-flow ODE of ``model`` (on a continuous process, e.g. a DDPM
    network read with ``model.with_process(VPSDE())``) together; thin lines follow the same ``trails``
    particles in both."""
    sde_frames, ode_frames, times = sde_ode_paths(model, n, steps)
    A, B = np.stack(sde_frames), np.stack(ode_frames)

    def draw(frame):
        use_style()
        fig, axes = plt.subplots(1, 2, figsize=(9.5, 4.6))
        for ax, arr, name, color in ((axes[0], A, "reverse SDE (stochastic)", "#d62728"),
                                     (axes[1], B, "probability-flow ODE (deterministic)", "#9467bd")):
            if background is not None:
                background(ax)
            ax.scatter(arr[frame, :, 0], arr[frame, :, 1], s=4, c=color, alpha=0.5, lw=0)
            for j in range(trails):
                ax.plot(arr[: frame + 1, j, 0], arr[: frame + 1, j, 1], lw=0.8, alpha=0.6)
            ax.set(xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal", title=f"{name}\nt = {times[frame]:.3f}")
        fig.subplots_adjust(left=0.05, right=0.98, bottom=0.06, top=0.86, wspace=0.15)
        show(fig)

    play, slider, controls = player(len(times), description="frame")
    box = live(draw, {"frame": slider}, header=controls)
    box.controls = {"frame": slider, "play": play}
    return box
