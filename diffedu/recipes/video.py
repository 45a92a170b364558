"""Recipe for lesson 14's video part: a class-conditional DiT over spacetime patches (``models.VideoDiT``) on
clips of one moving MNIST digit (``datasets.moving_mnist``: 8 frames of 24×24, the digit shrunk to 14 px,
1–3 px a frame on each axis, bouncing off the walls), drawn afresh for every batch from the 60,000 training
digits.

As lesson 08's DiT: v-prediction on the cosine schedule with min-SNR weighting (Hang et al. 2023), labels dropped
10 % of the time (the null label ∅ for classifier-free guidance), EMA weights saved in fp16. Sized for about
30 minutes of one thread of a shared 2-core CPU (OMP_NUM_THREADS=1: under the shared machine's load two threads
ran 10× slower): (2, 4, 4) patches → (8/2)(24/4)² = 144 tokens, width 128, depth 4.
"""
from __future__ import annotations

import torch

from ..losses import diffusion_loss
from ..processes import DiscreteVP
from ._setup import Setup

RECIPES = {
    "video-dit": dict(family="video", kind="ddpm-video", data="moving-mnist", network="VideoDiT", schedule="cosine",
                      T=1000, prediction="v", weighting="min-snr", steps=6000, batch=16, lr=1e-3, ema_decay=0.998,
                      p_uncond=0.1, seed=0, save_dtype="float16",
                      clips=dict(frames=8, size=24, digit=14, max_speed=3),
                      model=dict(frames=8, image_size=24, in_channels=1, frame_patch=2, patch_size=4,
                                 hidden_size=128, depth=4, heads=4, num_classes=10)),
}


def setup(name: str, r: dict) -> Setup:
    from ..datasets.moving_mnist import MovingDigits
    from ..models import VideoDiT

    clips = MovingDigits("train", **r["clips"])
    process, n_cls = DiscreteVP(r["schedule"], r["T"]), r["model"]["num_classes"]

    def loss(m, batch, g):
        xb, yb = batch
        drop = (torch.rand(yb.shape[0], generator=g) < r["p_uncond"]).to(yb.device)
        return diffusion_loss(m, xb, process, prediction=r["prediction"], weighting=r["weighting"], generator=g,
                              y=torch.where(drop, n_cls, yb))

    return Setup(VideoDiT(**r["model"]), clips.batches(r["batch"]), loss, process, r["prediction"], n_cls)
