"""Lessons 06–07 — digits: the forward process on one image, and the classifier-free guidance slider."""
from __future__ import annotations

from functools import lru_cache

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np
import torch

from .. import metrics, schedules
from ..datasets.mnist import to_image
from ..forward import q_sample
from ..guidance import cfg_eps_fn
from ..plotting import DATA, show, use_style
from ..samplers import ddim_sample
from ._base import live


def draw_digit_forward(x0: torch.Tensor, eps: torch.Tensor, sched, t: int):
    use_style()
    xt = x0 if t == 0 else q_sample(x0[None], t, sched, noise=eps[None])[0]
    fig, (a, b) = plt.subplots(1, 2, figsize=(8.2, 3.4), gridspec_kw={"width_ratios": [1, 1.5]})
    a.imshow(xt[0].numpy(), cmap="gray", vmin=-2.5, vmax=2.5)
    a.set(title=f"x_t, t = {t}  (ᾱ_t = {float(sched.alpha_bars[t]):.3f})", xticks=[], yticks=[])
    grid = np.linspace(-4, 4, 200)
    b.hist(xt.flatten().numpy(), bins=60, range=(-4, 4), density=True, color=DATA, alpha=0.6, label="pixels of x_t")
    b.plot(grid, np.exp(-grid**2 / 2) / np.sqrt(2 * np.pi), "k", lw=1.2, label="N(0, 1)")
    b.set(ylim=(0, 1.0), title="pixel values"); b.legend(loc="upper right")
    fig.subplots_adjust(left=0.03, right=0.98, bottom=0.12, top=0.86, wspace=0.15)
    show(fig)


def digit_forward(images: torch.Tensor, labels: torch.Tensor, T: int = 1000, seed: int = 0):
    """Pick a digit (by class), slide t, switch the schedule."""
    first = {int(c): int((labels == c).nonzero()[0]) for c in range(10)}
    eps = torch.randn(images.shape[1:], generator=torch.Generator().manual_seed(seed))
    scheds = {k: schedules.make(k, T) for k in ("linear", "cosine", "sigmoid")}
    c = dict(digit=W.Dropdown(options=list(range(10)), value=3, description="digit"),
             kind=W.Dropdown(options=list(scheds), value="cosine", description="schedule"),
             t=W.IntSlider(value=T // 4, min=0, max=T, step=T // 100, description="t", continuous_update=True))
    box = live(lambda digit, kind, t: draw_digit_forward(images[first[digit]].double(), eps.double(), scheds[kind], t),
               c, header=W.HBox([c["digit"], c["kind"], c["t"]]))
    box.controls = c
    return box


@torch.no_grad()
def sample_grid(model, sched, w: float, per_class: int = 2, steps: int = 25, seed: int = 0, classes=range(10)):
    """A fixed-seed batch: ``per_class`` digits for each class, DDIM with CFG scale w. Returns (images, labels)."""
    labels = torch.tensor([c for c in classes for _ in range(per_class)])
    x_T = torch.randn(len(labels), 1, 28, 28, generator=torch.Generator().manual_seed(seed))
    dev = next(model.parameters()).device
    out = ddim_sample(cfg_eps_fn(model, labels.to(dev), w), x_T.to(dev), sched, steps=steps, clip_x0=1.0)
    return out.cpu(), labels


def draw_grid(images: torch.Tensor, labels: torch.Tensor, per_class: int, w: float, stats: str = ""):
    use_style()
    n_cls = len(labels) // per_class
    fig, axes = plt.subplots(per_class, n_cls, figsize=(n_cls * 0.95, per_class * 1.0 + 0.5), squeeze=False)
    imgs = to_image(images)
    for i in range(len(labels)):
        ax = axes[i % per_class, i // per_class]
        ax.imshow(imgs[i], cmap="gray", vmin=0, vmax=1)
        ax.set_xticks([]); ax.set_yticks([])
        ax.grid(False)
        if i % per_class == 0:
            ax.set_title(str(int(labels[i])), fontsize=10)
    fig.suptitle(f"classifier-free guidance, w = {w:g}" + (f"   ·   {stats}" if stats else ""), fontsize=10)
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=0.86 if per_class > 1 else 0.75, wspace=0.05, hspace=0.05)
    show(fig)


def cfg_explorer(model, sched, classifier=None, per_class: int = 2, steps: int = 25, seed: int = 0):
    """Slide w from 0 to 10: the same noise, the same labels, regenerated. With ``classifier``, the
    conditional accuracy (does an independent classifier agree?) and the diversity are shown."""
    @lru_cache(maxsize=32)
    def compute(w):
        images, labels = sample_grid(model, sched, w, per_class, steps, seed)
        stats = ""
        if classifier is not None:
            preds, feats = metrics.classifier_outputs(classifier, images)
            acc = float((preds == labels).double().mean())
            stats = f"accuracy {acc:.0%}, diversity {metrics.feature_diversity(feats, labels):.2f}"
        return images, labels, stats

    wslider = W.FloatSlider(value=3.0, min=0.0, max=10.0, step=0.5, description="w", continuous_update=False)
    box = live(lambda w: draw_grid(*compute(w)[:2], per_class, w, compute(w)[2]), {"w": wslider},
               header=wslider, busy_text="sampling…")
    box.controls, box.compute = {"w": wslider}, compute
    return box
