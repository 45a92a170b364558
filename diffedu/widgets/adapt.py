"""Lesson 11 — fine-tuning: slide the strength of two LoRA adapters on one model and watch ten digits change
(the same noise throughout), with each concept's detector under the images."""
from __future__ import annotations

from functools import lru_cache

import ipywidgets as W
import torch

from .. import adapt
from ..images import sample_images
from ..text.captions import NAMES
from ._base import live
from .text import draw_digits


def lora_mixer(model, adapters: dict, prompts=None, w: float = 3.0, steps: int = 10, seed: int = 0,
               s_max: float = 1.5):
    """One slider per adapter of ``model`` (``adapters``: adapter name → the concept it teaches, e.g.
    {"box": "boxed", "dot": "dotted"}): its scale s (0: off, 1: as trained). ``prompts``: one per digit drawn
    (default "the digit zero" … "the digit nine"). Each image is titled with the concepts it shows."""
    prompts = list(prompts or [f"the digit {n}" for n in NAMES])
    x_T = torch.randn(len(prompts), *model.sample_shape, generator=torch.Generator().manual_seed(seed))

    @lru_cache(maxsize=64)
    def compute(*scales):
        for name, s in zip(adapters, scales):
            adapt.set_scale(model.net, s, name)
        return sample_images(model, prompts, w, steps, x_T=x_T)

    def draw(**scales):
        images = compute(*(float(scales[a]) for a in adapters))
        marks = [" ".join(c[:3] for a, c in adapters.items() if adapt.score(im[None], c) > 0.5) or "–"
                 for im in images]
        setting = ", ".join(f"s_{a} = {float(scales[a]):.2f}" for a in adapters)
        draw_digits(images, f"{setting}  (DDIM-{steps}, w = {w:g}, same noise)", marks)

    sliders = {a: W.FloatSlider(value=0.0 if i else 1.0, min=0.0, max=s_max, step=0.25, description=f"s_{a}",
                                continuous_update=False) for i, a in enumerate(adapters)}
    box = live(draw, sliders, header=W.HBox(list(sliders.values())), busy_text="sampling…")
    box.controls, box.compute = sliders, compute
    return box
