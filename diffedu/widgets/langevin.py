"""Lesson 04 — Langevin and annealed Langevin dynamics, animated, with the mode weights measured.

A run is computed when a parameter slider is released (cached, so going back is free) and shown at its last
frame, where the particles land; the frame slider and the Play button replay it and only draw.
"""
from __future__ import annotations

from functools import lru_cache

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from ..model import FunctionModel
from ..plotting import DATA, MODEL, density_grid, show, use_style
from ..processes import VE
from ..samplers import Recorder, annealed_langevin, langevin
from ._base import player
from ._plotly import live_plotly

N_FRAMES = 40


def _start(n: int, box: float, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(n, 2, generator=g, dtype=torch.float64) - 0.5) * 2 * box


class single_thread:
    """Tiny tensors are faster on one thread: the per-op cost, not the arithmetic, dominates."""

    def __enter__(self):
        self.n = torch.get_num_threads()
        torch.set_num_threads(1)

    def __exit__(self, *exc):
        torch.set_num_threads(self.n)


def exact_model(mixture, process, times) -> FunctionModel:
    """``mixture.model(process)`` for a sampler that visits only ``times``: each time's fixed-level score is
    built once and looked up by time, which keeps a thousand-step animation within a slider move."""
    key = lambda t: float(np.float32(t))  # noqa: E731  (looked up at float32 precision: times may arrive rounded)
    scores = {key(t): mixture.fixed_level_score(*(float(v) for v in process.alpha_sigma(float(t)))) for t in times}
    return FunctionModel(lambda x, t: scores[key(t[0].item())](x), process, prediction="score")


def run_langevin(mixture, step_size: float, n_steps: int, n: int = 400, box: float = 6.0, seed: int = 0):
    """Plain Langevin from a uniform start with the exact score of the clean density (the mixture's model on a
    VE process, at σ = 0): (frames, labels, σ per frame)."""
    x0 = _start(n, box, seed)
    every = max(1, n_steps // N_FRAMES)
    rec = Recorder(every=every, start=x0)
    with single_thread():
        langevin(exact_model(mixture, VE(), [0.0]), x0, 0.0, step_size=step_size, n_steps=n_steps,
                 generator=torch.Generator().manual_seed(seed + 1), callback=rec)
    steps = [min((k + 1) * every, n_steps) for k in range(len(rec.frames) - 1)]
    return [f.numpy() for f in rec.frames], ["start"] + [f"step {k}" for k in steps], [0.0] * len(rec.frames)


def run_annealed(mixture, levels: int, sigma_max: float, sigma_min: float, steps_per_level: int,
                 step_ratio: float = 0.1, n: int = 400, box: float = 6.0, seed: int = 0):
    """Annealed Langevin on the ladder of ``VE(σ_min, σ_max)`` (no final denoising step), with the step
    ε_i = step_ratio·σ_i² at level i (``step_size`` ε = step_ratio·σ_L²; Song & Ermon's α_i = 2ε_i)."""
    process = VE(min(sigma_min, sigma_max), sigma_max)
    sig = process.ladder(levels)
    x0 = _start(n, box, seed)
    total = levels * steps_per_level
    rec = Recorder(every=max(1, total // N_FRAMES), start=x0)
    sig_of_frame = [float(sig[0])]

    def cb(d):
        rec(d)
        if len(rec.frames) > len(sig_of_frame):
            sig_of_frame.append(d["t"])

    with single_thread():
        annealed_langevin(exact_model(mixture, process, sig), x0, sig, step_size=step_ratio * float(sig[-1]) ** 2,
                          steps_per_level=steps_per_level, generator=torch.Generator().manual_seed(seed + 1),
                          callback=cb)
    labels = ["start"] + [f"σ = {s:.3g}" for s in sig_of_frame[1:]]
    return [f.numpy() for f in rec.frames], labels, sig_of_frame


def draw_particles(mixture, x: np.ndarray, title: str, sigma: float = 0.0, lim: float = 6.0):
    use_style()
    fig, (a, b) = plt.subplots(1, 2, figsize=(9.5, 4.2), gridspec_kw={"width_ratios": [1.6, 1]})
    xs, dens = density_grid(mixture, 1.0, sigma, lim, 120)
    a.contourf(xs, xs, dens, levels=10, cmap="Blues", alpha=0.55)
    a.scatter(x[:, 0], x[:, 1], s=5, c=MODEL, alpha=0.6, lw=0)
    a.set(xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal", title=title)
    k = len(mixture.weights)
    frac = mixture.mode_fractions(torch.as_tensor(x))
    pos = np.arange(k)
    b.bar(pos - 0.2, mixture.weights.numpy(), 0.4, color=DATA, label="true weight")
    b.bar(pos + 0.2, frac, 0.4, color=MODEL, label="particles")
    b.set(xticks=pos, xticklabels=[f"mode {i}" for i in pos], ylim=(0, 1), title="mass per mode")
    b.legend(loc="upper right")
    fig.subplots_adjust(left=0.05, right=0.97, bottom=0.1, top=0.9, wspace=0.25)
    show(fig)


def particles_figure(mixture, lim: float) -> go.Figure:
    """The explorers' plotly figure: the density p_σ and the particles (left), mass per mode (right)."""
    k = len(mixture.weights)
    fig = make_subplots(rows=1, cols=2, column_widths=[0.62, 0.38], horizontal_spacing=0.08,
                        subplot_titles=("particles", "mass per mode"))
    fig.add_trace(go.Heatmap(x=[], y=[], z=[], colorscale="Blues", opacity=0.55, showscale=False, zsmooth="fast",
                             hoverinfo="skip"), 1, 1)
    fig.add_trace(go.Scatter(x=[], y=[], mode="markers", marker=dict(size=4, color=MODEL, opacity=0.6),
                             hoverinfo="skip", showlegend=False), 1, 1)
    names = [f"mode {i}" for i in range(k)]
    fig.add_trace(go.Bar(x=names, y=mixture.weights.numpy(), name="true weight", marker_color=DATA), 1, 2)
    fig.add_trace(go.Bar(x=names, y=np.zeros(k), name="particles", marker_color=MODEL), 1, 2)
    fig.update_xaxes(range=[-lim, lim], row=1, col=1)
    fig.update_yaxes(range=[-lim, lim], scaleanchor="x", row=1, col=1)
    fig.update_yaxes(range=[0, 1], row=1, col=2)
    fig.update_layout(height=440, width=950, template="plotly_white", barmode="group",
                      margin=dict(l=30, r=20, t=60, b=30), legend=dict(x=1, xanchor="right", y=1))
    return fig


def _explorer(mixture, compute, params: dict, lim: float, site: str):
    cache = lru_cache(maxsize=32)(lambda *vals: compute(**dict(zip(params, vals))))
    density = lru_cache(maxsize=64)(lambda sigma: density_grid(mixture, 1.0, sigma, lim, 60))
    play, frame, frame_box = player(N_FRAMES + 1, description="frame", value=N_FRAMES)  # the end: where a run lands

    def update(fig, frame, **kw):
        frames, labels, sigmas = cache(*[kw[k] for k in params])
        i = round(frame * (len(frames) - 1) / N_FRAMES)          # the slider's end is the run's end
        xs, p = density(float(sigmas[i]))
        fig.data[0].x, fig.data[0].y, fig.data[0].z = xs, xs, p
        fig.data[1].x, fig.data[1].y = frames[i][:, 0], frames[i][:, 1]
        fig.data[3].y = mixture.mode_fractions(torch.as_tensor(frames[i]))
        fig.layout.annotations[0].text = labels[i]

    box = live_plotly(particles_figure(mixture, lim), update, {"frame": frame, **params},
                      header=W.VBox([W.HBox(list(params.values())), frame_box]), busy_text="running the sampler…",
                      site=site)   # the course site's kernel-free copy slides this parameter (at the last frame)
    box.controls = {"frame": frame, "play": play, **params}
    box.compute = cache
    return box


def langevin_explorer(mixture, n: int = 400, lim: float = 6.0):
    """Sliders: step size ε and number of steps. Watch where the particles end up, and in what proportions."""
    params = dict(step_size=W.FloatLogSlider(value=0.01, base=10, min=-3, max=0, step=0.25, description="step ε",
                                             continuous_update=False),
                  n_steps=W.IntSlider(value=400, min=10, max=1000, step=10, description="steps",
                                      continuous_update=False))
    return _explorer(mixture, lambda step_size, n_steps: run_langevin(mixture, step_size, n_steps, n, lim), params, lim,
                     "step_size")


def annealed_explorer(mixture, n: int = 400, lim: float = 6.0):
    """Sliders: number of noise levels, σ_max, σ_min, steps per level."""
    params = dict(levels=W.IntSlider(value=10, min=1, max=20, description="levels L", continuous_update=False),
                  sigma_max=W.FloatLogSlider(value=10, base=10, min=-1, max=1.5, step=0.1, description="σ_max",
                                             continuous_update=False),
                  sigma_min=W.FloatLogSlider(value=0.01, base=10, min=-2.5, max=-0.5, step=0.1, description="σ_min",
                                             continuous_update=False),
                  steps_per_level=W.IntSlider(value=50, min=5, max=200, step=5, description="steps/level",
                                              continuous_update=False))

    def compute(levels, sigma_max, sigma_min, steps_per_level):
        if levels > 1 and sigma_min >= sigma_max:
            sigma_min = sigma_max / 10
        return run_annealed(mixture, levels, sigma_max, sigma_min, steps_per_level, n=n, box=lim)

    return _explorer(mixture, compute, params, lim, "levels")
