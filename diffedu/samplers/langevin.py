"""Langevin dynamics and annealed Langevin dynamics (Song & Ermon 2019, Algorithm 1).

Langevin:   x ← x + ε ∇log p(x) + √(2ε) z,   z ~ N(0, I)

For small ε and many steps the iterates are distributed as p, from any start, in theory. In practice
a start far from the data meets scores that were never learned (low density), and particles that fall
into one mode almost never cross to another, so mode *weights* come out wrong.

Annealed Langevin runs a few Langevin steps at each σ of a decreasing ladder σ_1 > … > σ_L, using the
score of the noised density p_σ, with step α_i = ε·σ_i²/σ_L²: at large σ the modes overlap and
particles spread in proportion to the weights; as σ shrinks they settle into the sharp modes.
"""
from __future__ import annotations

import math

import torch

from .._checks import check_int, check_real
from ..score import check_sigmas
from ._common import check_prediction, noise, start


@torch.no_grad()
def langevin(score_fn, x: torch.Tensor, *, step_size: float, n_steps: int, generator=None,
             callback=None) -> torch.Tensor:
    """Plain Langevin dynamics; ``score_fn(x)`` returns ∇log p(x) with x's shape."""
    step_size = check_real("step_size", step_size, low=0, low_open=True)
    n_steps = check_int("n_steps", n_steps, low=1)
    x = start(x)
    for i in range(n_steps):
        s = check_prediction("score_fn", score_fn(x), x)
        x = x + step_size * s + math.sqrt(2 * step_size) * noise(x, generator)
        if callback is not None:
            callback({"i": i, "t": i, "t_next": i + 1, "x": x, "score": s, "last": i == n_steps - 1})
    return x


@torch.no_grad()
def annealed_langevin(score_fn, x: torch.Tensor, sigmas, *, step_size: float = 2e-5,
                      steps_per_level: int = 100, denoise: bool = False, generator=None,
                      callback=None) -> torch.Tensor:
    """Annealed Langevin over ``sigmas`` (decreasing). ``score_fn(x, sigma)`` takes a (B,) tensor of σ.

    step_size: Song & Ermon's ε; the step at level i is ε·σ_i²/σ_L².
    denoise:   finish with one Tweedie step x + σ_L² s(x, σ_L) (Jolicoeur-Martineau et al. 2021).
    """
    sig = check_sigmas(sigmas)
    step_size = check_real("step_size", step_size, low=0, low_open=True)
    steps_per_level = check_int("steps_per_level", steps_per_level, low=1)
    x = start(x)
    L, i = sig.numel(), 0
    for level, sigma in enumerate(sig.tolist()):
        alpha = step_size * (sigma / float(sig[-1])) ** 2
        sb = torch.full((x.shape[0],), sigma, dtype=x.dtype, device=x.device)
        for j in range(steps_per_level):
            s = check_prediction("score_fn", score_fn(x, sb), x)
            x = x + alpha * s + math.sqrt(2 * alpha) * noise(x, generator)
            last = level == L - 1 and j == steps_per_level - 1 and not denoise
            if callback is not None:
                callback({"i": i, "t": sigma, "t_next": sigma, "level": level, "x": x, "score": s, "last": last})
            i += 1
    if denoise:
        sb = torch.full((x.shape[0],), float(sig[-1]), dtype=x.dtype, device=x.device)
        x = x + float(sig[-1]) ** 2 * score_fn(x, sb)
        if callback is not None:
            callback({"i": i, "t": float(sig[-1]), "t_next": 0.0, "level": L, "x": x, "last": True})
    return x
