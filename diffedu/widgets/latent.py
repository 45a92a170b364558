"""Lesson 09 — scaling up resolution: the cascade's conditioning-augmentation level at sampling time, an
interactive map of the autoencoder's latent space (plotly: hover names the class), and interpolation in latent
against pixel space."""
from __future__ import annotations

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np
import torch

from ..cascade import SuperResolution, upsample
from ..datasets.cifar10 import CLASSES, to_image
from ..plotting import show, show_mosaic, use_style
from ..samplers import ddim_sample
from ._base import live, per_position


@torch.no_grad()
def super_resolve(sr, low: torch.Tensor, level: float, steps: int, seed: int = 0) -> torch.Tensor:
    """The SR model's images for ``low`` at augmentation level s (DDIM-``steps``, fixed noise), on the CPU."""
    g = torch.Generator().manual_seed(seed)
    x_T = torch.randn(len(low), *sr.sample_shape, generator=g)
    model = SuperResolution(sr, low, level, generator=g)
    return ddim_sample(model, x_T.to(sr.device), steps, clip_x0=1.0).cpu()


def _row(axes, images, name):
    for ax, im in zip(axes, to_image(images)):
        ax.imshow(im, interpolation="nearest")
        ax.set_xticks([]); ax.set_yticks([]); ax.grid(False)
    axes[0].set_ylabel(name, rotation=0, ha="right", va="center", fontsize=8, labelpad=6)


def augmentation_explorer(sr, lows: dict, steps: int = 10, level: float = 0.1, max_level: float = 0.5,
                          precompute: bool = False):
    """Slide the augmentation level s used at sampling: for each set of low-resolution inputs in ``lows``
    ({name: (n, 3, 16, 16)}, e.g. real downsampled test images and the base model's samples) the SR model's
    32×32 output from the same noise, under the bilinear upsampling it starts from. Cached per s.

    precompute: super-resolve at every position of the slider when the widget is built, so that no move waits
    (a new s took up to 1 s at lesson 09's cpu size; benchmarks/README.md). Not while the course site is built."""
    names = list(lows)
    n = len(next(iter(lows.values())))

    def super_resolved(s):
        return {k: super_resolve(sr, v, s, steps) for k, v in lows.items()}

    bilinear = {k: to_image(upsample(v, sr.sample_shape[-1]).clamp(-1, 1)) for k, v in lows.items()}  # (n, H, W, 3)

    def draw(s):
        use_style()
        out = compute(s)
        imgs = np.concatenate([x for k in names for x in (bilinear[k], to_image(out[k]))])
        labels = [label for k in names for label in (f"{k}\n16×16, bilinear", f"{k}\nSR at s = {s:.2f}")]
        fig, ax = plt.subplots(figsize=(n * 0.95 + 1.6, 2.1 * len(names) + 0.4))
        show_mosaic(ax, imgs, 2 * len(names), n, row_labels=labels)   # one image: a redraw costs a fraction of 4n axes
        ax.tick_params(labelsize=8)
        fig.suptitle(f"super-resolution 16 → 32 with conditioning augmentation s = {s:.2f} at sampling "
                     f"(DDIM-{steps}, same noise)", fontsize=10)
        fig.subplots_adjust(left=1.6 / (n * 0.95 + 1.6), right=0.99, bottom=0.01, top=0.9)
        show(fig)

    slider = W.FloatSlider(value=level, min=0.0, max=max_level, step=0.05, description="s",
                           continuous_update=False, readout_format=".2f")
    compute = per_position(super_resolved, slider if precompute else None)
    box = live(draw, {"s": slider}, header=slider, busy_text="super-resolving…")
    box.controls, box.compute = {"s": slider}, compute
    return box


def latent_map(points: torch.Tensor, labels: torch.Tensor, title: str = "", class_names=CLASSES):
    """A plotly scatter of 2-D points (a projection of latents) coloured by class, one trace per class (click a
    legend entry to hide it), hover naming the class and the index. Static in an exported notebook."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for c, name in enumerate(class_names):
        idx = (labels == c).nonzero().flatten()
        fig.add_trace(go.Scattergl(x=points[idx, 0].tolist(), y=points[idx, 1].tolist(), mode="markers",
                                   name=name, marker=dict(size=4, opacity=0.7), customdata=idx.tolist(),
                                   hovertemplate=f"{name}<br>image %{{customdata}}<extra></extra>"))
    fig.update_layout(title=title, width=720, height=520, template="plotly_white", legend_title_text="class",
                      xaxis_title="projection 1", yaxis_title="projection 2", margin=dict(l=40, r=10, t=50, b=40))
    return fig


@torch.no_grad()
def interpolations(model, x_a: torch.Tensor, x_b: torch.Tensor, n: int = 8):
    """(pixel, latent): n images from x_a to x_b (each (3, H, W)) by a straight line in pixel space (a
    cross-fade) and by a straight line between κμ(x_a) and κμ(x_b) decoded (``model``: a latent model)."""
    a = torch.linspace(0, 1, n)[:, None, None, None]
    pixel = (1 - a) * x_a + a * x_b
    za, zb = model.encode(torch.stack([x_a, x_b])).float().cpu()
    latent = model.decode((1 - a) * za + a * zb).float().cpu().clamp(-1, 1)
    return pixel, latent


def draw_interpolations(rows, title: str = ""):
    """rows: [(name, images (n, 3, H, W))], one row each."""
    use_style()
    n = len(rows[0][1])
    fig, axes = plt.subplots(len(rows), n, figsize=(n * 1.0 + 1.4, len(rows) * 1.05 + 0.4), squeeze=False)
    for r, (name, images) in enumerate(rows):
        _row(axes[r], images, name)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.subplots_adjust(left=1.4 / (n + 1.4), right=0.99, bottom=0.01, top=0.86, wspace=0.05, hspace=0.08)
    show(fig)
