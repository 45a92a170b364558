"""Lesson 01 — the forward process animated: a 2-D data set dissolving into N(0, I)."""
from __future__ import annotations

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from .. import schedules
from ..forward import q_sample
from ..plotting import DATA, NOISE, show, to_np, use_style
from ..toy import GaussianMixture
from ._base import live, player
from ._plotly import add_density, add_lines, add_points, live_plotly, point_panels, trails


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


def forward_figure(lim: float = 4.0):
    """The animation's plotly figure: x_t (left), the first coordinate's histogram against N(0, 1) (right)."""
    fig = make_subplots(rows=1, cols=2, column_widths=[0.45, 0.55], subplot_titles=("x_t", "first coordinate"))
    fig.add_trace(go.Scatter(x=[], y=[], mode="markers", marker=dict(size=3, color=DATA, opacity=0.5),
                             name="x_t", hoverinfo="skip"), row=1, col=1)
    fig.add_trace(go.Bar(x=[], y=[], marker_color=DATA, opacity=0.6, name="x_t, first coord.",
                         width=8 / 60), row=1, col=2)
    fig.add_trace(go.Scatter(x=_XS, y=_GAUSS, mode="lines", line=dict(color="black", width=1.2), name="N(0, 1)"),
                  row=1, col=2)
    for r in (1, 2):
        fig.add_shape(type="circle", x0=-r, y0=-r, x1=r, y1=r, line=dict(dash="dash", color=NOISE, width=1),
                      row=1, col=1)
    fig.update_xaxes(range=[-lim, lim], row=1, col=1)
    fig.update_yaxes(range=[-lim, lim], scaleanchor="x", row=1, col=1)
    fig.update_xaxes(range=[-lim, lim], row=1, col=2)
    fig.update_yaxes(range=[0, 1.2], row=1, col=2)
    fig.update_layout(height=400, width=900, margin=dict(l=40, r=20, t=50, b=30), template="plotly_white",
                      bargap=0, legend=dict(x=0.98, xanchor="right", y=0.98))
    return fig


def update_forward(fig, xt: np.ndarray, t: int, alpha_bar: float) -> None:
    """One frame into ``forward_figure``: the points, the histogram, the two titles."""
    counts, edges = np.histogram(xt[:, 0], bins=60, range=(-4, 4), density=True)
    fig.data[0].x, fig.data[0].y = xt[:, 0], xt[:, 1]
    fig.data[1].x, fig.data[1].y = (edges[:-1] + edges[1:]) / 2, counts
    fig.layout.annotations[0].text = f"x_t at t = {t}   (ᾱ_t = {alpha_bar:.3f})"
    fig.layout.annotations[1].text = f"mean {xt[:, 0].mean():+.2f}, variance {xt[:, 0].var():.2f}"


def forward_animation(x0: torch.Tensor, T: int = 1000, frames: int = 100, seed: int = 0):
    """Play / slide t from 0 to T; pick the schedule. Left: the points x_t; right: the marginal of the
    first coordinate against N(0, 1). A plotly figure: each frame moves the points in place."""
    x0 = x0.detach().cpu().double()
    eps = torch.randn(x0.shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    scheds = {k: schedules.make(k, T) for k in ("linear", "cosine", "sigmoid")}
    ts = np.unique(np.linspace(0, T, frames + 1).round().astype(int))

    def update(fig, kind, frame):
        s, t = scheds[kind], int(ts[frame])
        update_forward(fig, to_np(forward_frame(x0, eps, s, t)).astype(np.float32), t, float(s.alpha_bars[t]))

    play, slider, controls = player(len(ts), description="frame")
    kind = W.Dropdown(options=list(scheds), value="linear", description="schedule")
    box = live_plotly(forward_figure(), update, {"kind": kind, "frame": slider}, header=W.HBox([kind, controls]))
    box.controls = {"kind": kind, "frame": slider, "play": play}
    return box


def trajectory_player(frames, times, background=None, title="reverse process", paths: int = 20,
                      lim: float = 3.5):
    """Animate a list of (n, 2) point sets, e.g. recorded by a sampler's callback (plotly: moved in place).

    background: a ``toy.GaussianMixture`` whose density is drawn under every frame (contours), or None. The first
    ``paths`` particles leave a trail so that individual trajectories can be followed.
    """
    arr = np.stack([to_np(f) for f in frames]).astype(np.float32)          # (n_frames, n, 2)
    fig = point_panels([title], lim, height=460, width_each=440)
    if background is not None:
        add_density(fig, background, lim=lim)
    i_trail, i_pts = add_lines(fig), add_points(fig)

    def update(fig, frame):
        fig.data[i_trail].x, fig.data[i_trail].y = trails(arr[: frame + 1], paths)
        fig.data[i_pts].x, fig.data[i_pts].y = arr[frame, :, 0], arr[frame, :, 1]
        fig.layout.annotations[0].text = f"{title}: {times[frame]}"

    play, slider, controls = player(len(arr), description="step")
    box = live_plotly(fig, update, {"frame": slider}, header=controls)
    box.controls = {"frame": slider, "play": play}
    return box


def density_surface(mixture, sched, coord: int = 0, n_x: int = 161, n_t: int = 101, lim: float = 3.5):
    """p_t(x) of one coordinate of a Gaussian mixture over (x, t) as a plotly surface to rotate and hover.

    Exact, no sampling: coordinate ``coord`` of a mixture is the 1-D mixture of its components' coordinates, and
    under q(x_t | x_0) = N(√ᾱ_t x_0, (1 − ᾱ_t) I) each component N(μ, σ²) becomes N(√ᾱ_t μ, ᾱ_t σ² + 1 − ᾱ_t)."""
    if not (isinstance(coord, int) and 0 <= coord < mixture.dim):
        raise ValueError(f"coord must be a coordinate index 0 … {mixture.dim - 1}, got {coord!r}")
    line = GaussianMixture(mixture.means[:, coord:coord + 1], mixture.stds, mixture.weights)
    xs = torch.linspace(-lim, lim, n_x, dtype=torch.float64)
    ts = np.unique(np.linspace(0, sched.T, n_t).round().astype(int))
    ab = sched.alpha_bars[torch.as_tensor(ts)]
    z = torch.stack([line.log_prob(xs[:, None], a.sqrt(), (1 - a).sqrt()).exp() for a in ab]).numpy()  # (t, x)
    fig = go.Figure(go.Surface(x=xs.numpy(), y=ts, z=z, colorscale="Viridis", showscale=False,
                               hovertemplate="x = %{x:.2f}<br>t = %{y}<br>p_t(x) = %{z:.3f}<extra></extra>"))
    fig.update_layout(title=f"p_t(x_{coord + 1}) of the data, t = 0 … {sched.T} ({sched.name} schedule): drag to rotate",
                      scene=dict(xaxis_title=f"x_{coord + 1}", yaxis_title="t", zaxis_title="p_t",
                                 camera=dict(eye=dict(x=1.6, y=-1.4, z=0.9))),
                      height=520, width=760, margin=dict(l=0, r=0, t=50, b=0), template="plotly_white")
    return fig
