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
import torch

from ..plotting import DATA, MODEL, grid_points, show, use_style
from ._base import live


def arrows(score: np.ndarray) -> np.ndarray:
    """Arrow vectors for display: the direction of the score with its length squashed to (0, 1)."""
    norm = np.linalg.norm(score, axis=1, keepdims=True)
    return score / np.maximum(norm, 1e-12) * (norm / (1.0 + norm))


@torch.no_grad()
def score_field_data(mixture, sigmas, learned=None, grid_n: int = 30, lim: float = 3.5) -> dict:
    """Per σ: exact and learned scores on a grid_n² grid, the noisy density p_σ and the squared error.

    learned: a model on a VE process (time = σ), or None."""
    pts, axis = grid_points(lim, grid_n, torch.float64)
    fine, fine_axis = grid_points(lim, 2 * grid_n, torch.float64)
    out = {"axis": axis.numpy(), "fine_axis": fine_axis.numpy(), "pts": pts.numpy(), "levels": []}
    for sigma in [float(s) for s in sigmas]:
        exact = mixture.score(pts, 1.0, sigma)
        dens_f = mixture.log_prob(fine, 1.0, sigma).exp()
        level = {"sigma": sigma, "exact": exact.numpy(), "density": dens_f.reshape(2 * grid_n, -1).T.numpy()}
        if learned is not None:
            s_l = learned.score(fine.float(), sigma).double()
            s_e = mixture.score(fine, 1.0, sigma)
            err = ((s_l - s_e) ** 2).sum(1)
            level["learned"] = learned.score(pts.float(), sigma).double().numpy()
            level["error"] = err.reshape(2 * grid_n, -1).T.numpy()
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


def score_field(mixture, sigmas, learned=None, grid_n: int = 30, lim: float = 3.5):
    """Widget: pick σ on the ladder; compare exact and learned arrows (``learned``: a model on a VE process);
    see where the error hides."""
    data = score_field_data(mixture, sigmas, learned, grid_n, lim)
    options = [(f"{lv['sigma']:.3f}", i) for i, lv in enumerate(data["levels"])]
    c = dict(level=W.SelectionSlider(options=options, value=0, description="σ", continuous_update=False),
             show_exact=W.Checkbox(value=True, description="exact"),
             show_learned=W.Checkbox(value=learned is not None, description="learned"),
             weighted=W.ToggleButtons(options=[("weighted by p_σ", True), ("unweighted", False)], value=True))
    header = W.HBox([c["level"], c["show_exact"], c["show_learned"], c["weighted"]])
    box = live(lambda **kw: draw_score_field(data, **kw), c, header=header)
    box.controls, box.data = c, data
    return box
