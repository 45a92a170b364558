"""Lessons 06–07 — digits: the forward process on one image, and the classifier-free guidance slider."""
from __future__ import annotations

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np
import torch

from .. import metrics, schedules
from ..forward import q_sample
from ..images import draw_grid, sample_grid, sample_images
from ..plotting import DATA, show, use_style
from ._base import live
from . import _site
from ._site import control_values


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


def cfg_explorer(model, classifier=None, per_class: int = 2, steps: int = 25, seed: int = 0, w_max: float = 10.0,
                 precompute: bool = False):
    """Slide w from 0 to ``w_max``: the same noise, the same labels, regenerated (DDIM-``steps`` on
    ``model.given(y, w)``; a guidance-distilled student takes w as an input and needs one pass a step).
    With ``classifier``, the conditional accuracy (does an independent classifier agree?) and, with two or
    more digits per class, the diversity are shown. Each w is sampled once and kept.

    precompute: sample every position of the slider when the widget is built, in one batched call (each w gets
    the same noise it would get alone), so that no move waits for sampling (lesson 12's student: one pass a
    step whatever w is)."""
    wslider = W.FloatSlider(value=3.0, min=0.0, max=w_max, step=0.5, description="w", continuous_update=False)
    done = {}

    def judged(w, images, labels):
        stats = ""
        if classifier is not None:
            preds, feats = metrics.classifier_outputs(classifier, images)
            stats = f"accuracy {float((preds == labels).double().mean()):.0%}"
            if per_class > 1:  # diversity is the spread within a class: it needs two digits of one class
                stats += f", diversity {metrics.feature_diversity(feats, labels):.2f}"
        done[round(w, 6)] = images, labels, stats       # rounded: 2.5 from the slider and from arange agree
        return done[round(w, 6)]

    def compute(w):
        w = float(w)
        return done.get(round(w, 6)) or judged(w, *sample_grid(model, w, per_class, steps, seed))

    if precompute and not _site.enabled():      # the site's copy samples only the positions it shows
        ws = [float(v) for v in control_values(wslider, 10**6)[0]]     # every position the slider can take
        labels = torch.tensor([c for c in range(10) for _ in range(per_class)])
        x_T = torch.randn(len(labels), *model.sample_shape, generator=torch.Generator().manual_seed(seed))
        every = sample_images(model, labels.repeat(len(ws)), torch.tensor(ws).repeat_interleave(len(labels)), steps,
                              x_T=x_T.repeat(len(ws), *[1] * (x_T.ndim - 1)), batch=20)  # 20 at a time: memory
        for k, w in enumerate(ws):
            judged(w, every[k * len(labels):(k + 1) * len(labels)], labels)

    def draw(w):
        images, labels, stats = compute(w)
        draw_grid(images, labels, per_class,
                  f"classifier-free guidance, w = {w:g}" + (f"   ·   {stats}" if stats else ""))

    box = live(draw, {"w": wslider}, header=wslider, busy_text="sampling…")
    box.controls, box.compute = {"w": wslider}, compute
    return box
