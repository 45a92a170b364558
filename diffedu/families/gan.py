"""A generative adversarial network for 2-D data (Goodfellow et al. 2014, "Generative Adversarial Nets", NeurIPS).

A generator G_θ maps noise to points, x = G_θ(z) with z ~ N(0, I); a discriminator D_φ(x) returns a logit,
σ(D_φ(x)) being its belief that x is real. They play the minimax game

    min_θ max_φ  E_{x ~ data}[log σ(D_φ(x))] + E_z[log(1 − σ(D_φ(G_θ(z))))].

The discriminator's side is a binary classifier's cross-entropy (real → 1, fake → 0):

    L_D = −E log σ(D(x)) − E log(1 − σ(D(G(z)))) = E softplus(−D(x)) + E softplus(D(G(z))).

Against the best possible D the generator's minimax objective is 2·JS(p_data ‖ p_G) − log 4, minimal
exactly when p_G = p_data. In practice log(1 − σ(D(G(z)))) saturates: early on D rejects the fakes with
confidence and its gradient vanishes. The *non-saturating* loss (same paper, §3) has the same fixed point and
strong gradients where the generator is worst:

    L_G = −E log σ(D(G(z))) = E softplus(−D(G(z))).

What a GAN does not give: any likelihood. G pushes N(0, I) forward through a network that is neither
invertible nor constrained, so p_G(x) cannot be evaluated, and nothing in L_G rewards covering every mode:
a generator that puts all its samples where D is currently fooled is doing well by its own loss (mode
collapse). The two networks need their own optimisers, stepped in turn, so this file has its own loop.
"""
from __future__ import annotations

import time

import torch
import torch.nn.functional as F
from torch import nn

from ..models.registry import register
from ..train import EMA, TrainResult, mix, pick_device, progress_bar
from .._random import randn
from .._checks import check_callable, check_int, check_real
from ._common import check_draw, check_points, check_sizes, mlp


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """L_D = E softplus(−D(x_real)) + E softplus(D(x_fake)): low when D says real to real, fake to fake."""
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """The non-saturating L_G = E softplus(−D(G(z))) = −E log σ(D(G(z))): low when D is fooled."""
    return F.softplus(-fake_logits).mean()


@register
class GAN(nn.Module):
    """A generator z (latent) → x (dim) and a discriminator x → logit, both MLPs."""

    def __init__(self, dim: int = 2, latent: int = 2, hidden: int = 128, depth: int = 3):
        super().__init__()
        self.config = check_sizes(dim=dim, latent=latent, hidden=hidden, depth=depth)
        dim, latent, hidden, depth = (self.config[k] for k in ("dim", "latent", "hidden", "depth"))
        self.generator = mlp(latent, dim, hidden, depth)
        self.discriminator = mlp(dim, 1, hidden, depth)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.generator(check_points("z", z, self.config["latent"]))

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n points G(z), z ~ N(0, I) drawn from ``generator``."""
        n = check_draw(n, generator)
        p = next(self.parameters())
        return self.generator(randn((n, self.config["latent"]), p, generator))


def train_gan(model: GAN, batches, *, steps: int, lr: float = 1e-3, betas=(0.5, 0.999), ema_decay: float = 0.995,
              device: str | None = None, seed: int = 0, progress: bool = True, on_step=None,
              on_step_every: int = 1) -> TrainResult:
    """Alternate one discriminator step and one generator step, ``steps`` times (two Adam optimisers).

    Like ``diffedu.train.train``: ``batches(generator)`` draws real points, step t's randomness comes from
    ``mix(seed, t, 0)``, ``result.ema`` is an EMA copy, ``on_step(step, result)`` runs every
    ``on_step_every`` steps and after the last. ``result.losses`` holds L_G, ``result.d_losses`` L_D.
    """
    if not isinstance(model, GAN):
        raise TypeError(f"model must be a families.GAN (train the VAE and the flow with diffedu.train), got "
                        f"{type(model).__name__}")
    check_callable("batches", batches, "a function generator -> batch of real points (B, dim)")
    check_callable("on_step", on_step, "a function (step, result)", optional=True)
    steps = check_int("steps", steps, low=1)
    lr = check_real("lr", lr, low=0, low_open=True)
    try:
        pair = tuple(check_real("betas", b, low=0, high=1, high_open=True) for b in betas)
    except (TypeError, ValueError):
        pair = ()
    if len(pair) != 2:
        raise ValueError(f"betas must be a pair (β1, β2) of Adam's decay rates in [0, 1), got {betas!r}")
    betas = pair
    ema_decay = check_real("ema_decay", ema_decay, low=0, high=1, high_open=True)
    on_step_every = check_int("on_step_every", on_step_every, low=1)
    seed = check_int("seed", seed)
    dev = pick_device(device)
    model = model.to(dev).train()
    opt_g = torch.optim.Adam(model.generator.parameters(), lr=lr, betas=betas)
    opt_d = torch.optim.Adam(model.discriminator.parameters(), lr=lr, betas=betas)
    ema = EMA(model, ema_decay)
    result = TrainResult(model, ema.model, device=str(dev))
    result.d_losses = []
    latent, t0 = model.config["latent"], time.perf_counter()
    for step in progress_bar(range(steps), progress):
        gen = torch.Generator().manual_seed(mix(seed, step, 0))
        real = check_points("batches(generator)", batches(gen), model.config["dim"]).to(dev)
        z = randn((real.shape[0], latent), real, gen)
        # 1. the discriminator learns to tell real from the current fakes (G frozen: detach)
        fake = model.generator(z)
        loss_d = discriminator_loss(model.discriminator(real), model.discriminator(fake.detach()))
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        # 2. the generator learns to fool the updated discriminator (only G's optimiser steps)
        loss_g = generator_loss(model.discriminator(model.generator(z)))
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        ema.update(model)
        result.losses.append(float(loss_g.detach()))
        result.d_losses.append(float(loss_d.detach()))
        if on_step is not None and ((step + 1) % on_step_every == 0 or step + 1 == steps):
            result.seconds = time.perf_counter() - t0
            on_step(step + 1, result)
    result.seconds = time.perf_counter() - t0
    model.eval()
    return result
