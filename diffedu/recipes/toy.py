"""Recipes for the 2-D lessons: DDPM on the 8-Gaussian ring (lesson 02) and a multi-scale score model (03–04)."""
from __future__ import annotations

import torch

from .. import toy
from ..losses import diffusion_loss
from ..models import MLPDenoiser, ScoreMLP
from ..processes import VE, DiscreteVP
from ..score import ncsn_loss
from ..train import tensor_batches
from ._setup import Setup

RECIPES = {
    "ring8-mlp": dict(family="toy", kind="ddpm", data="ring8", schedule="linear", T=1000, steps=12000, batch=512,
                      lr=2e-3, model=dict(hidden=128, depth=3, emb_dim=32), n_data=50000, seed=0),
    # Song & Ermon's multi-scale score network on the same data: σ from 3 down to 0.03 in 10 levels
    "ring8-ncsn": dict(family="toy", kind="ncsn", data="ring8", sigma_max=3.0, sigma_min=0.03, levels=10,
                       steps=10000, batch=512, lr=2e-3, model=dict(hidden=128, depth=3, emb_dim=32), n_data=50000,
                       seed=0),
}


def setup(name: str, r: dict) -> Setup:
    data = toy.sample(r["data"], r["n_data"], generator=torch.Generator().manual_seed(r["seed"]), seed=r["seed"])
    if r["kind"] == "ddpm":
        process = DiscreteVP(r["schedule"], r["T"])
        return Setup(MLPDenoiser(**r["model"]), tensor_batches(data, r["batch"]),
                     lambda m, batch, g: diffusion_loss(m, batch, process, generator=g), process, "eps")
    process = VE(sigma_min=r["sigma_min"], sigma_max=r["sigma_max"])
    sigmas = process.ladder(r["levels"])
    return Setup(ScoreMLP(**r["model"]), tensor_batches(data, r["batch"]),
                 lambda m, batch, g: ncsn_loss(m, batch, sigmas, generator=g), process, "score")
