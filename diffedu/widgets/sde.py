"""Lesson 05 — reverse SDE and probability-flow ODE from the same starting points, side by side."""
from __future__ import annotations

import numpy as np
import torch

from ..samplers import Recorder, probability_flow_ode, reverse_sde_sample
from ._base import player
from ._plotly import add_density, add_lines, add_points, live_plotly, point_panels
from ._plotly import trails as polyline

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
    particles in both. background: a ``toy.GaussianMixture`` drawn as contours under both panels, or None."""
    sde_frames, ode_frames, times = sde_ode_paths(model, n, steps)
    A, B = np.stack(sde_frames).astype(np.float32), np.stack(ode_frames).astype(np.float32)
    names = ("reverse SDE (stochastic)", "probability-flow ODE (deterministic)")
    fig = point_panels(names, lim, height=450)
    idx = []
    for col, color in ((1, "#d62728"), (2, "#9467bd")):
        if background is not None:
            add_density(fig, background, col, lim)
        idx.append((add_lines(fig, col, color=color, width=0.9, opacity=0.6), add_points(fig, col, color, 4, 0.5)))

    def update(fig, frame):
        for k, (arr, (i_trail, i_pts)) in enumerate(zip((A, B), idx)):
            fig.data[i_trail].x, fig.data[i_trail].y = polyline(arr[: frame + 1], trails)
            fig.data[i_pts].x, fig.data[i_pts].y = arr[frame, :, 0], arr[frame, :, 1]
            fig.layout.annotations[k].text = f"{names[k]}<br>t = {times[frame]:.3f}"

    play, slider, controls = player(len(times), description="frame")
    box = live_plotly(fig, update, {"frame": slider}, header=controls)
    box.controls = {"frame": slider, "play": play}
    return box
