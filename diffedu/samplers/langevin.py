"""Langevin dynamics and annealed Langevin dynamics (Song & Ermon 2019, Algorithm 1).

Langevin, as the lecture writes it:   x ← x + ε ∇log p(x) + √(2ε) z,   z ~ N(0, I)

For small ε and many steps the iterates are distributed as p, from any start, in theory. In practice
a start far from the data meets scores that were never learned (low density), and particles that fall
into one mode almost never cross to another, so mode *weights* come out wrong.

Annealed Langevin runs a few Langevin steps at each noise level of a decreasing grid σ_1 > … > σ_L, using
the score of the noised density p_σ, with step ε_i = ε·σ_i²/σ_L²: at large σ the modes overlap and
particles spread in proportion to the weights; as σ shrinks they settle into the sharp modes.

Whose ε: this module uses the lecture's update x + ε ∇log p + √(2ε) z at every level. Song & Ermon's
Algorithm 1 writes x + (α_i/2) ∇log p + √α_i z with α_i = ε σ_i²/σ_L², so with the same ε their step is half
of ours: our ``step_size`` ε equals their ε/2.
"""
from __future__ import annotations

import math

import torch

from .._checks import check_int, check_real
from .common import alpha_sigma, checked, grid_of, noise, report, start, tt


@torch.no_grad()
def langevin(model, x: torch.Tensor, t, *, step_size: float, n_steps: int, generator=None,
             callback=None) -> torch.Tensor:
    """Plain Langevin dynamics on p_t, the model's density at the fixed time ``t`` (the data: t_clean)."""
    step_size = check_real("step_size", step_size, low=0, low_open=True)
    n_steps = check_int("n_steps", n_steps, low=1)
    (t,) = grid_of(model, [t], min_len=1)
    x = start(x, generator, callback)
    a, s = alpha_sigma(model, t, x)
    for i in range(n_steps):
        score = checked("the model's score", model.score(x, tt(model, t, x)), x)
        x0_hat = (x + s**2 * score) / a
        x = x + step_size * score + math.sqrt(2 * step_size) * noise(x, generator)
        report(callback, i, t, t, x, x0_hat, i + 1, i == n_steps - 1)
    return x


@torch.no_grad()
def annealed_langevin(model, x: torch.Tensor, grid, *, step_size: float = 2e-5, steps_per_level: int = 100,
                      generator=None, callback=None) -> torch.Tensor:
    """Annealed Langevin over the levels of ``grid`` (decreasing; e.g. ``VE(...).grid(L)``).

    step_size: ε; the step at level i is ε·σ_i²/σ_L², σ_L the smallest level above 0.
    A grid that ends at the clean time (σ = 0) finishes with one Tweedie step x̂_0 = (x + σ_L² s(x, σ_L))/α
    (Jolicoeur-Martineau et al. 2021): ``VE.grid(L)`` does, ``VE.grid(L)[:-1]`` does not.
    """
    step_size = check_real("step_size", step_size, low=0, low_open=True)
    steps_per_level = check_int("steps_per_level", steps_per_level, low=1)
    ts = grid_of(model, grid, min_len=1)
    denoise = alpha_sigma(model, ts[-1], x)[1] == 0
    levels = ts[:-1] if denoise else ts
    x = start(x, generator, callback)
    s_last = alpha_sigma(model, levels[-1], x)[1]
    i = 0
    for level, t in enumerate(levels):
        a, s = alpha_sigma(model, t, x)
        eps_i = step_size * (s / s_last) ** 2
        for j in range(steps_per_level):
            score = checked("the model's score", model.score(x, tt(model, t, x)), x)
            x0_hat = (x + s**2 * score) / a
            x = x + eps_i * score + math.sqrt(2 * eps_i) * noise(x, generator)
            last = level == len(levels) - 1 and j == steps_per_level - 1 and not denoise
            report(callback, i, t, t, x, x0_hat, i + 1, last)
            i += 1
    if denoise:
        t = levels[-1]
        a, s = alpha_sigma(model, t, x)
        x = (x + s**2 * model.score(x, tt(model, t, x))) / a
        report(callback, i, t, ts[-1], x, x, i + 1, True)
    return x
