"""Lesson 03 — the score field: exact ∇log p_σ and a learned s_θ(x, σ) on a grid, with the error map.

The learned model is any diffedu model whose time is σ (a network on ``processes.VE``, e.g.
``pretrained("ring8-ncsn")``): it is asked for ``model.score(x, σ)``.

Everything a slider can select is computed once when the widget is built (one batched call per σ), so a
slider move only draws.
"""
from __future__ import annotations

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np
import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from .._checks import check_int
from ..plotting import DATA, MODEL, grid_points, show, use_style
from ._plotly import MAX_WIDTH, arrow_lines, contour_lines, live_plotly


def arrows(score: np.ndarray) -> np.ndarray:
    """Arrow vectors for display: the direction of the score with its length squashed to (0, 1)."""
    norm = np.linalg.norm(score, axis=1, keepdims=True)
    return score / np.maximum(norm, 1e-12) * (norm / (1.0 + norm))


@torch.no_grad()
def score_field_data(mixture, sigmas, learned=None, grid_n: int = 20, lim: float = 3.5, fine_n: int = 60) -> dict:
    """Per σ: exact and learned scores on a grid_n² grid of arrows, and the noisy density p_σ and the squared
    error on a finer fine_n² grid.

    learned: a model on a VE process (time = σ), or None."""
    grid_n, fine_n = check_int("grid_n", grid_n, low=2), check_int("fine_n", fine_n, low=2)
    pts, axis = grid_points(lim, grid_n, torch.float64)
    fine, fine_axis = grid_points(lim, fine_n, torch.float64)
    out = {"axis": axis.numpy(), "fine_axis": fine_axis.numpy(), "pts": pts.numpy(), "levels": [],
           "arrow_length": 2 * lim / (grid_n - 1)}   # the longest arrow spans one grid cell
    for sigma in [float(s) for s in sigmas]:
        exact = mixture.score(pts, 1.0, sigma)
        dens_f = mixture.log_prob(fine, 1.0, sigma).exp()
        level = {"sigma": sigma, "exact": exact.numpy(), "density": dens_f.reshape(fine_n, -1).T.numpy()}
        if learned is not None:
            s_l = learned.score(fine.float(), sigma).double()
            s_e = mixture.score(fine, 1.0, sigma)
            err = ((s_l - s_e) ** 2).sum(1)
            level["learned"] = learned.score(pts.float(), sigma).double().numpy()
            level["error"] = err.reshape(fine_n, -1).T.numpy()
            level["fisher"] = float((err * dens_f).sum() / dens_f.sum())   # E_p ‖s_θ − ∇log p‖²
        out["levels"].append(level)
    return out


def draw_score_field(data: dict, level: int, show_exact=True, show_learned=True, weighted=True):
    use_style()
    L = data["levels"][level]
    has_learned = "learned" in L
    fig, axes = plt.subplots(1, 2 if has_learned else 1, figsize=(10.5 if has_learned else 5.2, 4.8),
                             squeeze=False)
    ax = axes[0, 0]
    X, Y = data["pts"][:, 0], data["pts"][:, 1]
    fa = data["fine_axis"]
    ax.contourf(fa, fa, L["density"], levels=12, cmap="Blues", alpha=0.5)
    if show_exact:
        v = arrows(L["exact"])
        ax.quiver(X, Y, v[:, 0], v[:, 1], color=DATA, scale=28, width=0.004, label="exact ∇log p_σ")
    if has_learned and show_learned:
        v = arrows(L["learned"])
        ax.quiver(X, Y, v[:, 0], v[:, 1], color=MODEL, scale=28, width=0.004, alpha=0.8, label="learned s_θ")
    ax.set(aspect="equal", title=f"score field at σ = {L['sigma']:.3f}")
    ax.legend(loc="lower left", fontsize=8)
    if has_learned:
        b = axes[0, 1]
        err = L["error"] * (L["density"] if weighted else 1.0)
        im = b.imshow(np.log10(err + 1e-8), origin="lower", extent=(fa[0], fa[-1], fa[0], fa[-1]),
                      cmap="magma", vmin=-6 if weighted else -3, vmax=1 if weighted else 3)
        b.contour(fa, fa, L["density"], levels=5, colors="w", linewidths=0.6, alpha=0.7)
        fig.colorbar(im, ax=b, fraction=0.046, label="log10")
        b.set(title=("p_σ(x)·‖s_θ − ∇log p_σ‖²  (what the loss sees)" if weighted
                     else "‖s_θ − ∇log p_σ‖²  (the actual error)") + f"\nFisher divergence {L['fisher']:.3g}")
    fig.subplots_adjust(left=0.05, right=0.97, bottom=0.06, top=0.88, wspace=0.2)
    show(fig)


def score_figure(data: dict) -> go.Figure:
    """The plotly figure of ``score_field``: arrows over the density (left), the error map (right, if learned)."""
    fa, has_learned = data["fine_axis"], "learned" in data["levels"][0]
    fig = make_subplots(rows=1, cols=2 if has_learned else 1, horizontal_spacing=0.08,
                        subplot_titles=["score field", "error"][: 2 if has_learned else 1])
    fig.add_trace(go.Heatmap(x=fa, y=fa, z=data["levels"][0]["density"], colorscale="Blues", opacity=0.5,
                             showscale=False, zsmooth="fast", hoverinfo="skip"), 1, 1)   # a heatmap: no contouring
    for name, color in (("exact ∇log p_σ", DATA), ("learned s_θ", MODEL)):
        fig.add_trace(go.Scatter(x=[], y=[], mode="lines", name=name, line=dict(color=color, width=1.1),
                                 hoverinfo="skip"), 1, 1)
    if has_learned:
        fig.add_trace(go.Heatmap(x=fa, y=fa, z=data["levels"][0]["error"], colorscale="Magma",
                                 colorbar=dict(title="log10", len=0.8), hovertemplate="log10 %{z:.2f}<extra></extra>"),
                      1, 2)
        fig.add_trace(go.Scatter(x=[], y=[], mode="lines", line=dict(color="white", width=0.6), hoverinfo="skip",
                                 showlegend=False), 1, 2)                 # p_σ's contours, computed in Python
    for col in range(1, 3 if has_learned else 2):
        x = "x" if col == 1 else f"x{col}"
        fig.update_xaxes(range=[fa[0], fa[-1]], row=1, col=col)
        fig.update_yaxes(range=[fa[0], fa[-1]], scaleanchor=x, row=1, col=col)
    fig.update_layout(height=470, width=MAX_WIDTH if has_learned else 520, template="plotly_white",
                      margin=dict(l=30, r=20, t=70, b=30), legend=dict(x=0.01, y=0.01, bgcolor="rgba(255,255,255,0.7)"))
    return fig


def update_score_figure(fig, data: dict, level: int, show_exact=True, show_learned=True, weighted=True) -> None:
    L = data["levels"][level]
    fig.data[0].z = L["density"]
    for i, key, on in ((1, "exact", show_exact), (2, "learned", show_learned)):
        if key in L:
            fig.data[i].x, fig.data[i].y = arrow_lines(data["pts"], arrows(L[key]), data["arrow_length"])
        fig.data[i].visible = bool(on and key in L)
    fig.layout.annotations[0].text = f"score field at σ = {L['sigma']:.3f}"
    if "learned" in L:
        err = L["error"] * (L["density"] if weighted else 1.0)
        fig.data[3].z = np.log10(err + 1e-8)
        fig.data[4].x, fig.data[4].y = contour_lines(data["fine_axis"], data["fine_axis"], L["density"], levels=5)
        fig.data[3].zmin, fig.data[3].zmax = (-6, 1) if weighted else (-3, 3)
        fig.layout.annotations[1].text = (("p_σ(x)·‖s_θ − ∇log p_σ‖²  (what the loss sees)" if weighted
                                           else "‖s_θ − ∇log p_σ‖²  (the actual error)")
                                          + f"<br>Fisher divergence {L['fisher']:.3g}")


def score_field(mixture, sigmas, learned=None, grid_n: int = 20, lim: float = 3.5, fine_n: int = 60):
    """Widget: pick σ on the ladder; compare exact and learned arrows (``learned``: a model on a VE process);
    see where the error hides (plotly: hover the error map for its value). grid_n² arrows a field (20²: less than
    half the vertices of 30² for the browser to draw; benchmarks/README.md, issue 36) over a fine_n² density."""
    data = score_field_data(mixture, sigmas, learned, grid_n, lim, fine_n)
    options = [(f"{lv['sigma']:.3f}", i) for i, lv in enumerate(data["levels"])]
    c = dict(level=W.SelectionSlider(options=options, value=0, description="σ", continuous_update=False),
             show_exact=W.Checkbox(value=True, description="exact"),
             show_learned=W.Checkbox(value=learned is not None, description="learned"),
             weighted=W.ToggleButtons(options=[("weighted by p_σ", True), ("unweighted", False)], value=True))
    header = W.HBox([c["level"], c["show_exact"], c["show_learned"], c["weighted"]])
    box = live_plotly(score_figure(data), lambda fig, **kw: update_score_figure(fig, data, **kw), c, header=header)
    box.controls, box.data = c, data
    return box
