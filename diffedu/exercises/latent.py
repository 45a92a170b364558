"""Checkers for lesson 09 (scaling up resolution): the latent scale factor κ, and the conditioning-augmentation
input of a super-resolution model."""
from __future__ import annotations

import math

import torch

from ..cascade import augment
from ..latent import scale_factor
from ._check import run_check


def _gen():
    return torch.Generator().manual_seed(9)


def check_scale_factor(fn, strict: bool = False):
    """fn(latents) → κ, the number that gives κ·latents a standard deviation of 1 over all their entries
    (latents: (N, c, h, w), the encoder's means on the training set)."""
    g = _gen()
    spread = torch.tensor([1.0, 3.0, 5.0, 8.0], dtype=torch.float64).view(1, 4, 1, 1)  # channels unlike each other:
    cases = [(spread * torch.randn(200, 4, 8, 8, generator=g, dtype=torch.float64) + 1.5,),  # per-channel ≠ global
             (0.2 * torch.randn(400, 3, 8, 8, generator=g, dtype=torch.float64) - 0.7,)]
    mistakes = [
        ("you returned the standard deviation itself: the scale factor is its inverse, κ = 1/std, so that "
         "κ·z has unit std (Stable Diffusion's 0.18215 < 1 because its latents' std is about 5.5).",
         lambda z: float(z.std())),
        ("you divided by the root mean square √E[z²], which counts the latents' mean too: κ = 1/std.",
         lambda z: float(1 / z.pow(2).mean().sqrt())),
        ("you divided by the variance: κ = 1/std, not 1/var (κ multiplies z, and std scales linearly).",
         lambda z: float(1 / z.var())),
        ("you took the std per channel and averaged: the shipped κ is one number for all entries, "
         "1/std(z) over everything (as Stable Diffusion's).",
         lambda z: float(1 / z.transpose(0, 1).flatten(1).std(1).mean())),
    ]
    # tol 1e-3: the population std (np.std) and the sample std differ by a factor 1 + 1/(2N), both accepted
    return run_check("latent scale factor κ", fn, lambda z: scale_factor(z), cases, mistakes, strict, tol=1e-3)


def check_augment(fn, strict: bool = False):
    """fn(low_up, s, noise) → z_s = cos(πs/2)·low_up + sin(πs/2)·noise: the low-resolution image (already
    upsampled) noised to augmentation level s ∈ [0, 1] (a float); s = 0 must give low_up back exactly."""
    g = _gen()
    cases = []
    for s in (0.3, 0.0, 1.0, 0.05):
        cases.append((torch.randn(2, 3, 8, 8, generator=g, dtype=torch.float64),
                      s, torch.randn(2, 3, 8, 8, generator=g, dtype=torch.float64)))
    mistakes = [
        ("you added the noise without shrinking the image: z_s = α_s x + σ_s ε keeps the variance at 1 "
         "(variance preserving), x + σ_s ε would grow it.",
         lambda x, s, e: x + math.sin(math.pi * s / 2) * e),
        ("α and σ are swapped: at s = 0 the image must come back unchanged, so α_0 = cos 0 = 1 multiplies it.",
         lambda x, s, e: math.sin(math.pi * s / 2) * x + math.cos(math.pi * s / 2) * e),
        ("you used cos(πs) and sin(πs): the angle is πs/2, so that s = 1 is pure noise (α = cos π/2 = 0).",
         lambda x, s, e: math.cos(math.pi * s) * x + math.sin(math.pi * s) * e),
        ("you mixed linearly, (1 − s) x + s ε: that is the flow-matching path, not variance preserving.",
         lambda x, s, e: (1 - s) * x + s * e),
    ]
    return run_check("conditioning augmentation z_s", fn, lambda x, s, e: augment(x, s, noise=e), cases, mistakes,
                     strict)
