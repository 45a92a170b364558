"""DDIM sampling — Song, Meng & Ermon 2021, eq. (12), for any process x_t = α_t x_0 + σ_t ε.

From x_t, predict x̂_0 and ε̂, then jump to an earlier time s < t on the grid:

    x_s = α_s x̂_0 + √(σ_s² − c²) ε̂ + c z,     c = η · (σ_s/σ_t) · √(σ_t² − (α_t/α_s)² σ_s²)

c is η times the standard deviation of the posterior q(x_s | x_t, x_0). In the lecture's discrete VP
notation (α_t = √ᾱ_t, σ_t = √(1 − ᾱ_t)) it reads c = η √((1 − ᾱ_s)/(1 − ᾱ_t)) √(1 − ᾱ_t/ᾱ_s). η = 0 is the
deterministic sampler on the slides; η = 1 on every step (s = t − 1) is DDPM with σ_t² = β̃_t. Any decreasing
grid may be visited, which is where the speed comes from. η may also be a function of the step's t, to add
noise on part of the path only (``eta=lambda t: t > 500``).
"""
from __future__ import annotations

import math

import numpy as np
import torch

from .._checks import check_real
from ..processes import column
from .common import alpha_sigma, check_clip, denoise, grid_of, noise, report, start


def ddim_step(x0_hat: torch.Tensor, eps: torch.Tensor, a_t, s_t, a_s, s_s, eta: float = 0.0,
              z: torch.Tensor | None = None) -> torch.Tensor:
    """One DDIM update t → s from the model's (x̂_0, ε̂); z is the fresh noise when η > 0.

    α_t, σ_t, α_s, σ_s are numbers (one time for the whole batch, as in ``ddim_sample``) or float64 (B,)
    tensors (each sample at its own time, as in distillation's targets and consistency distillation's Φ)."""
    if not torch.is_tensor(s_s):
        c = eta * (s_s / s_t) * math.sqrt(max(s_t**2 - (a_t / a_s) ** 2 * s_s**2, 0.0)) if s_s > 0 else 0.0
        x = a_s * x0_hat + math.sqrt(max(s_s**2 - c**2, 0.0)) * eps
        return x + c * z if c > 0 else x
    c = torch.zeros_like(s_s)
    if eta > 0:
        c = torch.where(s_s > 0, eta * (s_s / s_t) * torch.sqrt((s_t**2 - (a_t / a_s) ** 2 * s_s**2).clamp(min=0)), c)
    x = column(a_s, x0_hat) * x0_hat + column(torch.sqrt((s_s**2 - c**2).clamp(min=0)), eps) * eps
    return x + column(c, x) * z if eta > 0 else x


def ddim_model_step(model, x: torch.Tensor, t: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    """One deterministic DDIM step (η = 0) t → s of ``model``, each sample at its own times ((B,) tensors):
    x_s = α_s x̂_0 + σ_s ε̂. The teachers' steps of progressive distillation and consistency distillation's Φ."""
    return ddim_step(*model.x0_eps(x, t), *model.process.alpha_sigma(t), *model.process.alpha_sigma(s))


@torch.no_grad()
def ddim_sample(model, x: torch.Tensor, grid=50, *, eta=0.0, clip_x0: float | None = None,
                generator: torch.Generator | None = None, callback=None) -> torch.Tensor:
    """Run DDIM from ``x`` at grid[0] down the grid (default: 50 steps of ``model.process.grid``).

    eta:     a number ≥ 0, or a function t ↦ η for the step that leaves t.
    clip_x0: clamp x̂_0 to [−clip_x0, clip_x0] (images in [−1, 1]) and recompute ε̂ from it.
    """
    if callable(eta):
        def eta_at(t):
            v = eta(t)
            if isinstance(v, (bool, np.bool_)) or torch.is_tensor(v) and v.dtype == torch.bool and v.ndim == 0:
                v = float(v)                                                   # eta=lambda t: t > 500
            return check_real(f"eta(t) at t = {t}", v, low=0)
    else:
        eta_value = check_real("eta", eta, low=0)

        def eta_at(t):
            return eta_value
    clip_x0 = check_clip(clip_x0)
    ts = grid_of(model, grid)
    x = start(x, generator, callback)
    for i, (t, s) in enumerate(zip(ts[:-1], ts[1:])):
        (a_t, s_t), (a_s, s_s) = alpha_sigma(model, t, x), alpha_sigma(model, s, x)
        x0_hat, eps = denoise(model, x, t, a_t, s_t, clip_x0)
        e = eta_at(t)
        x = ddim_step(x0_hat, eps, a_t, s_t, a_s, s_s, e, noise(x, generator) if e > 0 and s_s > 0 else None)
        report(callback, i, t, s, x, x0_hat, i + 1, i == len(ts) - 2)
    return x
