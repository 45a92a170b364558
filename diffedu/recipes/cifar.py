"""Recipes for lesson 08 (CIFAR-10): a class-conditional U-Net and a DiT of about the same size, and an
independent classifier to measure them. Both diffusion models predict v (Salimans & Ho 2022: well defined at both
ends of the cosine schedule, where an ε-network's x̂_0 divides by α ≈ 0) with min-SNR weighting (Hang et al. 2023
report faster convergence with it; not measured against ε or uniform weighting here), on the cosine schedule.

The shipped checkpoints were trained on all 50,000 training images from the development machines' JPEG copy
(lossy: 7.9 RMSE on 0–255); elsewhere the official archive is used (downloaded once, 162 MB).
"""
from __future__ import annotations

import torch
from torch.nn.functional import cross_entropy

from ..losses import diffusion_loss
from ..processes import DiscreteVP
from ..train import tensor_batches
from ._setup import Setup

_DIFFUSION = dict(family="cifar", data="cifar10", schedule="cosine", T=1000, prediction="v", weighting="min-snr",
                  batch=64, lr=5e-4, ema_decay=0.999, p_uncond=0.1, seed=0, save_dtype="float16")
RECIPES = {
    "cifar-unet": dict(_DIFFUSION, kind="ddpm-image", network="UNet", steps=20000,
                       model=dict(image_size=32, in_channels=3, base_channels=32, channel_mults=(1, 2, 2),
                                  num_res_blocks=1, attn_resolutions=(16, 8), num_classes=10, dropout=0.1)),
    "cifar-dit": dict(_DIFFUSION, kind="ddpm-image", network="DiT", steps=20000,
                      model=dict(image_size=32, in_channels=3, patch_size=2, hidden_size=128, depth=4, heads=4,
                                 num_classes=10)),
    "cifar-classifier": dict(family="cifar", kind="classifier", data="cifar10", network="CifarClassifier",
                             steps=8000, batch=128, lr=2e-3, ema_decay=0.999, model=dict(width=48), seed=3,
                             save_dtype="float32"),
}


def train_data():
    """All 50,000 training images: the JPEG copy where a development machine has it, else the official archive."""
    from ..datasets import cifar10

    try:
        return cifar10.load_jpeg("train")
    except FileNotFoundError:
        return cifar10.load("train")


def augment(x: torch.Tensor, g: torch.Generator, max_px: int = 4) -> torch.Tensor:
    """Random horizontal flips and translations by up to max_px pixels (reflection-padded), per batch."""
    if bool(torch.rand((), generator=g) < 0.5):
        x = x.flip(-1)
    dx, dy = (int(v) for v in torch.randint(-max_px, max_px + 1, (2,), generator=g))
    padded = torch.nn.functional.pad(x, [max_px] * 4, mode="reflect")
    return padded[..., max_px + dy: max_px + dy + x.shape[-2], max_px + dx: max_px + dx + x.shape[-1]]


def setup(name: str, r: dict) -> Setup:
    from .. import models

    x, y = train_data()
    batches = tensor_batches(x, r["batch"], y)
    net = getattr(models, r["network"])(**r["model"])
    if r["kind"] == "classifier":
        return Setup(net, batches, lambda m, batch, g: cross_entropy(m(augment(batch[0], g)), batch[1]))
    process, n_cls = DiscreteVP(r["schedule"], r["T"]), r["model"]["num_classes"]

    def loss(m, batch, g):
        xb, yb = batch
        if bool(torch.rand((), generator=g) < 0.5):  # flips only: a diffusion model should not learn shifted borders
            xb = xb.flip(-1)
        drop = (torch.rand(yb.shape[0], generator=g) < r["p_uncond"]).to(yb.device)
        return diffusion_loss(m, xb, process, prediction=r["prediction"], weighting=r["weighting"], generator=g,
                              y=torch.where(drop, n_cls, yb))

    return Setup(net, batches, loss, process, r["prediction"], n_cls)
