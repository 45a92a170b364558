"""Lesson 13 — Euler paths of velocity models side by side (before and after reflow): steps and time sliders."""
from __future__ import annotations

import ipywidgets as W
import numpy as np
import torch

from ..fewstep import straightness
from ..samplers import euler_sample
from ..samplers import Recorder
from ._base import player
from ._plotly import add_density, add_lines, add_points, live_plotly, point_panels
from ._plotly import trails as polyline

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
    """One panel per velocity model in ``models`` ({name: model on ``Linear``}), all from the same noise, over
    ``background`` (a ``toy.GaussianMixture``, drawn as contours) if given; plotly, the particles moved in place.

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

    fig = point_panels(list(models), lim, height=460, width_each=420)
    idx = []
    for col in range(1, len(models) + 1):
        if background is not None:
            add_density(fig, background, col, lim)
        idx.append((add_lines(fig, col, width=0.7, opacity=0.3), add_points(fig, col, size=4, opacity=0.6)))

    def update(fig, steps, frame):
        t = 1.0 - frame / (N_TIMES - 1)
        for k, (name, (i_trail, i_pts)) in enumerate(zip(models, idx)):
            p = paths(name, steps)
            tr = fig.data[i_trail]
            tr.x, tr.y = polyline(p, min(trails, n))
            tr.mode = "lines+markers" if steps <= 12 else "lines"        # the Euler grid points, where few
            now = at_time(p, t)
            fig.data[i_pts].x, fig.data[i_pts].y = now[:, 0], now[:, 1]
            fig.layout.annotations[k].text = (f"{name}: Euler-{steps}, t = {t:.2f}<br>"
                                              f"median straightness {curv[name]:.3f} (Euler-{reference})")

    steps = W.SelectionSlider(options=list(STEPS), value=STEPS[-1], description="Euler steps",
                              continuous_update=False, layout=W.Layout(width="420px"))
    play, slider, controls = player(N_TIMES, interval_ms=100, description="frame", value=N_TIMES - 1)
    box = live_plotly(fig, update, {"steps": steps, "frame": slider}, header=W.VBox([steps, controls]))
    box.controls = {"steps": steps, "frame": slider, "play": play}
    box.straightness = curv
    return box
