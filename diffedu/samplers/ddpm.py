"""Ancestral DDPM sampling — Ho et al. 2020, Algorithm 2, on any decreasing grid.

    x_{t−1} = (x_t − β_t / √(1 − ᾱ_t) · ε_θ(x_t, t)) / √α_t + σ_t z,    z ~ N(0, I) if t > 1 else 0

which is the mean of the posterior q(x_{t−1} | x_t, x̂_0) with x̂_0 from ε_θ. On a coarser grid t → s the
same posterior gives the step (for any process x_t = α_t x_0 + σ_t ε, with α_{t|s} = α_t/α_s and
σ²_{t|s} = σ_t² − α_{t|s}² σ_s², the variance of x_t given x_s):

    mean = α_{t|s} σ_s²/σ_t² · x_t + α_s σ²_{t|s}/σ_t² · x̂_0,
    variance σ²_{t|s} ("beta": β_t on adjacent steps, the upper bound) or σ²_{t|s} σ_s²/σ_t² ("beta_tilde": β̃_t).

Ho et al. report both variances give similar samples. Note on the slides: the "In practice" version of
line 4 puts a bar on every α; only the √(1 − ᾱ_t) under the ε carries one. ``tests/test_samplers.py`` shows
the slide's version drifts away from the data.
"""
from __future__ import annotations

import math

import torch

from .common import alpha_sigma, check_clip, denoise, grid_of, noise, report, start


@torch.no_grad()
def ddpm_sample(model, x: torch.Tensor, grid=None, *, variance: str = "beta", clip_x0: float | None = None,
                generator: torch.Generator | None = None, callback=None) -> torch.Tensor:
    """Run ancestral sampling from ``x`` at grid[0] down the grid (default: every step T, …, 1, 0).

    variance: "beta" (σ_t² = β_t) or "beta_tilde" (σ_t² = β̃_t).
    clip_x0:  clamp x̂_0 to [−clip_x0, clip_x0] before taking the posterior mean (images in [−1, 1]).
    """
    if variance not in ("beta", "beta_tilde"):
        raise ValueError(f"variance must be 'beta' or 'beta_tilde', got {variance!r}")
    clip_x0 = check_clip(clip_x0)
    if grid is None:
        p = getattr(model, "process", None)
        if p is None or not p.discrete:
            raise ValueError("grid is required for a continuous process (only a discrete one has every step)")
        grid = p.T
    ts = grid_of(model, grid)
    x = start(x, generator, callback)
    for i, (t, s) in enumerate(zip(ts[:-1], ts[1:])):
        (a_t, s_t), (a_s, s_s) = alpha_sigma(model, t, x), alpha_sigma(model, s, x)
        x0_hat, _ = denoise(model, x, t, a_t, s_t, clip_x0)
        a_ts = a_t / a_s
        var_ts = s_t**2 - a_ts**2 * s_s**2
        x = (a_ts * s_s**2 / s_t**2) * x + (a_s * var_ts / s_t**2) * x0_hat
        last = i == len(ts) - 2
        if not last:
            var = var_ts if variance == "beta" else var_ts * s_s**2 / s_t**2
            x = x + math.sqrt(var) * noise(x, generator)
        report(callback, i, t, s, x, x0_hat, i + 1, last)
    return x
