"""Multistep consistency sampling — Song, Dhariwal, Chen & Sutskever 2023, Algorithm 1.

A consistency function f maps any point of a PF-ODE trajectory to the trajectory's start near the data, so one
evaluation at T is a sample; more steps alternate "re-noise to a lower time τ" and "apply f again". f is
``model.x0`` (a ``fewstep.ConsistencyModel``'s f_θ, or any diffusion model's one-step x̂_0).
"""
from __future__ import annotations

import math

import torch

from .._checks import check_int
from .common import check_model, grid_of, noise, report, start, steps_of, tt


@torch.no_grad()
def consistency_sample(model, x_T: torch.Tensor, grid, *, generator=None, callback=None) -> torch.Tensor:
    """Multistep consistency sampling (Song et al. 2023, Algorithm 1): x ← f(x_T, τ_1); then for each next τ,
    re-noise x from t_min to τ and apply f again. ``grid`` = [τ_1 = T, τ_2, …] decreasing, all > t_min
    (one time: one-step generation; an int N: the first N times of ``model.process.grid(N)``).

    The re-noising is the forward transition t_min → τ: x_τ = (α_τ/α_min) x + √(σ_τ² − (α_τ/α_min)² σ_min²) z;
    for VE this is the paper's x + √(τ² − ε²) z. f is ``model.x0``, so any model works (a diffusion model's t_min
    is its clean time). The callback's x is the re-noised state at t_next (the sample on the last step).
    """
    process = check_model(model)
    t_min = float(getattr(model, "t_min", process.t_clean))
    if steps_of(grid) is not None:
        grid = process.grid(check_int("grid", steps_of(grid), low=1))[:-1]
    ts = grid_of(model, grid, min_len=1)
    if ts[-1] <= t_min:
        raise ValueError(f"grid times must all be > t_min = {t_min}, got {ts}")
    x = start(x_T, generator, callback, "x_T")
    a_min, s_min = (float(v) for v in process.alpha_sigma(torch.tensor(t_min, dtype=torch.float64)))
    for i, t in enumerate(ts):
        x0_hat = model.x0(x, tt(model, t, x))
        last = i == len(ts) - 1
        if last:
            x, t_next = x0_hat, t_min
        else:
            t_next = ts[i + 1]
            a, s = (float(v) for v in process.alpha_sigma(torch.tensor(t_next, dtype=torch.float64)))
            r = a / a_min
            x = r * x0_hat + math.sqrt(max(s**2 - (r * s_min) ** 2, 0.0)) * noise(x, generator)
        report(callback, i, t, t_next, x, x0_hat, i + 1, last)
    return x
