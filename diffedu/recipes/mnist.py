"""Recipes for the MNIST lessons (06–07, 13): the class-conditional U-Net, its flow-matching twin and the two
classifiers."""
from __future__ import annotations

import torch
from torch.nn.functional import cross_entropy

from .._random import randint, randn
from ..fewstep import flow_matching_loss
from ..losses import diffusion_loss
from ..processes import DiscreteVP, Linear
from ..train import tensor_batches
from ._setup import Setup

RECIPES = {
    # class-conditional MNIST U-Net; labels dropped 10% of the time so it also learns p(x) (for CFG)
    "mnist-unet": dict(family="mnist", kind="ddpm-image", data="mnist", schedule="cosine", T=1000, steps=2500,
                       batch=64, lr=1e-3, ema_decay=0.999, p_uncond=0.1,
                       model=dict(base_channels=32, channel_mults=(1, 2, 2), num_res_blocks=1, attn_resolutions=(7,),
                                  num_classes=10, dropout=0.1), seed=0, save_dtype="float16"),
    # lesson 13: the same network and conditioning trained by flow matching — the straight path
    # x_t = (1 − t) x_0 + t ε (processes.Linear), the network predicting the velocity ε − x_0
    "mnist-flow": dict(family="mnist", kind="flow-image", data="mnist", process="Linear", prediction="velocity",
                       steps=3000, batch=64, lr=1e-3, ema_decay=0.999, p_uncond=0.1,
                       model=dict(base_channels=32, channel_mults=(1, 2, 2), num_res_blocks=1, attn_resolutions=(7,),
                                  num_classes=10, dropout=0.1), seed=0, save_dtype="float16"),
    # an independent clean classifier, used only to measure samples (accuracy, Fréchet distance)
    "mnist-classifier": dict(family="mnist", kind="classifier", data="mnist", steps=1200, batch=128, lr=2e-3,
                             ema_decay=0.999, model=dict(width=32, features=128), seed=1, save_dtype="float32"),
    # f_φ(y | x_t, t) for classifier guidance, on the U-Net's process
    "mnist-noisy-classifier": dict(family="mnist", kind="noisy-classifier", data="mnist", schedule="cosine",
                                   T=1000, steps=1500, batch=128, lr=2e-3, ema_decay=0.999,
                                   model=dict(base_channels=32), seed=2, save_dtype="float32"),
}


def shift(x: torch.Tensor, g: torch.Generator, max_px: int = 2) -> torch.Tensor:
    """Random translations by up to max_px pixels (zero-padded): the classifiers' only augmentation."""
    dx, dy = (int(v) for v in torch.randint(-max_px, max_px + 1, (2,), generator=g))
    return torch.roll(torch.nn.functional.pad(x, [max_px] * 4, value=-1.0), (dy, dx), (2, 3))[
        ..., max_px:-max_px, max_px:-max_px]


def setup(name: str, r: dict) -> Setup:
    from ..datasets import mnist
    from ..models import DigitClassifier, NoisyClassifier, UNet

    x, y = mnist.load("train")
    batches = tensor_batches(x, r["batch"], y)
    if r["kind"] == "ddpm-image":
        process, n_cls = DiscreteVP(r["schedule"], r["T"]), r["model"]["num_classes"]

        def loss(m, batch, g):
            xb, yb = batch
            drop = (torch.rand(yb.shape[0], generator=g) < r["p_uncond"]).to(yb.device)
            return diffusion_loss(m, xb, process, generator=g, y=torch.where(drop, n_cls, yb))

        return Setup(UNet(**r["model"]), batches, loss, process, "eps", n_cls)
    if r["kind"] == "flow-image":
        process, n_cls = Linear(), r["model"]["num_classes"]

        def flow_loss(m, batch, g):
            xb, yb = batch
            drop = (torch.rand(yb.shape[0], generator=g) < r["p_uncond"]).to(yb.device)
            return flow_matching_loss(m, xb, process=process, generator=g, y=torch.where(drop, n_cls, yb))

        return Setup(UNet(**r["model"]), batches, flow_loss, process, r["prediction"], n_cls)
    if r["kind"] == "classifier":
        return Setup(DigitClassifier(**r["model"]), batches,
                     lambda m, batch, g: cross_entropy(m(shift(batch[0], g)), batch[1]))
    process = DiscreteVP(r["schedule"], r["T"])

    def noisy_loss(m, batch, g):
        xb, yb = batch
        t = randint(1, process.T + 1, (xb.shape[0],), xb, g)
        return cross_entropy(m(process.q_sample(shift(xb, g), t, randn(xb.shape, xb, g)), t), yb)

    return Setup(NoisyClassifier(**r["model"]), batches, noisy_loss, process)
