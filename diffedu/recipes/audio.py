"""Recipe for lesson 14's audio part: a 1-D DiT on the waveform of ``datasets.notes``, conditioned on pitch,
timbre and Stable Audio's timing (seconds_start, seconds_total), with the image recipes' choices (cosine
schedule, x0-prediction (see below), min-SNR weighting, EMA, the label dropped 10 % of the time for
classifier-free guidance).

    python -m diffedu.recipes notes-dit --state notes-dit.state
"""
from __future__ import annotations

from functools import lru_cache

import torch

from ..losses import diffusion_loss
from ..processes import DiscreteVP
from ..train import tensor_batches
from ._setup import Setup

RECIPES = {
    # 96 labels (8 pitches × 3 timbres × 4 durations), 50 clips each; 1 s at 8 kHz cut into 50 patches of 20 ms.
    # x0-prediction, not v: a token of D = 128 cannot carry a patch's 160 numbers of noise, but the clean patch
    # (a few harmonics) fits (Li & He 2025, "Back to Basics: Let Denoising Generative Models Denoise"); the same
    # network trained on v (2,000 steps) made noise, 1/48 at the asked pitch. min-SNR-5 on x0 weighs the errors as
    # min-SNR on v does
    "notes-dit": dict(family="audio", kind="audio", data="notes", clips=4800, data_seed=0, network="AudioDiT",
                      schedule="cosine", T=1000, prediction="x0", weighting="min-snr", steps=4000, batch=32,
                      lr=1e-3, ema_decay=0.999, p_uncond=0.1, seed=0, save_dtype="float16",
                      model=dict(clip_samples=8000, patch_size=160, hidden_size=128, depth=4, heads=4,
                                 num_pitches=8, num_timbres=3, durations=(0.25, 0.5, 0.75, 1.0))),
}


@lru_cache(maxsize=1)
def train_data(clips: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The training clips (clips, 1, 8000) and their labels, generated once per process."""
    from ..datasets import notes

    d = notes.dataset(clips, seed=seed)
    return d.x, d.y


def setup(name: str, r: dict) -> Setup:
    from .. import models

    net = getattr(models, r["network"])(**r["model"])
    x, y = train_data(r["clips"], r["data_seed"])
    process, n_cls = DiscreteVP(r["schedule"], r["T"]), net.num_classes

    def loss(m, batch, g):
        xb, yb = batch
        drop = (torch.rand(yb.shape[0], generator=g) < r["p_uncond"]).to(yb.device)
        return diffusion_loss(m, xb, process, prediction=r["prediction"], weighting=r["weighting"], generator=g,
                              y=torch.where(drop, n_cls, yb))

    return Setup(net, tensor_batches(x, r["batch"], y), loss, process, r["prediction"], n_cls)
