"""DDIM sampling — Song, Meng & Ermon 2021, eq. (12).

From x_t, predict x̂_0 = (x_t − √(1 − ᾱ_t) ε_θ) / √ᾱ_t, then jump to an earlier step s < t:

    x_s = √ᾱ_s x̂_0 + √(1 − ᾱ_s − σ²) ε_θ + σ z,     σ = η √((1 − ᾱ_s)/(1 − ᾱ_t)) √(1 − ᾱ_t/ᾱ_s)

η = 0 is the deterministic sampler on the slides; η = 1 with every step (s = t − 1) is DDPM with
σ_t² = β̃_t. Any decreasing subsequence of 1..T may be visited, which is where the speed comes from.
η may also be a function of the step's t, to add noise on part of the path only (``eta=lambda t: t > 500``).
"""
from __future__ import annotations

import torch

from .._checks import check_int, check_real
from ..schedules import Schedule
from ._common import EpsFn, check_prediction, noise, start, timestep_tensor


def ddim_timesteps(T: int, steps: int) -> list[int]:
    """``steps`` evenly spaced timesteps from T downwards ("trailing": T, T − T/steps, …, T/steps).

    Starting at T matters: a sequence that never visits T starts from noise the model never saw
    (Lin et al. 2024).
    """
    T = check_int("T", T, low=1)
    steps = check_int("steps", steps, low=1, high=T)
    ts = torch.linspace(T, 0, steps + 1, dtype=torch.float64)[:-1].round().long().tolist()
    return ts


def _check_timesteps(timesteps, T: int) -> list[int]:
    ts = [int(t) for t in timesteps]
    if not ts:
        raise ValueError("timesteps must not be empty")
    if any(t < 1 or t > T for t in ts):
        raise ValueError(f"timesteps must lie in [1, {T}], got {ts}")
    if any(a <= b for a, b in zip(ts, ts[1:])):
        raise ValueError("timesteps must be strictly decreasing")
    return ts


@torch.no_grad()
def ddim_sample(eps_fn: EpsFn, x: torch.Tensor, sched: Schedule, *, steps: int | None = 50,
                timesteps=None, eta=0.0, clip_x0: float | None = None,
                generator: torch.Generator | None = None, callback=None) -> torch.Tensor:
    """Run DDIM from ``x`` = x_T over ``timesteps`` (default: ``ddim_timesteps(T, steps)``), ending at 0.

    eta: a number ≥ 0, or a function t ↦ η for the step that leaves t.
    """
    if callable(eta):
        def eta_at(t):
            return check_real("eta(t)", float(eta(t)), low=0)
    else:
        eta_value = check_real("eta", eta, low=0)

        def eta_at(t):
            return eta_value
    if clip_x0 is not None and not clip_x0 > 0:
        raise ValueError(f"clip_x0 must be a positive number or None, got {clip_x0!r}")
    ts = _check_timesteps(timesteps, sched.T) if timesteps is not None else ddim_timesteps(sched.T, steps)
    x = start(x)
    ab = sched.alpha_bars.to(x.device)
    for i, (t, s) in enumerate(zip(ts, ts[1:] + [0])):
        tt = timestep_tensor(t, x)
        eps = check_prediction("eps_fn", eps_fn(x, tt), x)
        ab_t, ab_s = ab[t].to(x.dtype), ab[s].to(x.dtype)
        x0_hat = (x - torch.sqrt(1 - ab_t) * eps) / torch.sqrt(ab_t)
        if clip_x0 is not None:
            x0_hat = x0_hat.clamp(-clip_x0, clip_x0)
            eps = (x - torch.sqrt(ab_t) * x0_hat) / torch.sqrt(1 - ab_t)
        sigma = eta_at(t) * torch.sqrt((1 - ab_s) / (1 - ab_t) * (1 - ab_t / ab_s))
        x = torch.sqrt(ab_s) * x0_hat + torch.sqrt((1 - ab_s - sigma**2).clamp(min=0)) * eps
        if sigma > 0:
            x = x + sigma * noise(x, generator)
        if callback is not None:
            callback({"i": i, "t": t, "t_next": s, "x": x, "x0_hat": x0_hat, "eps": eps,
                      "last": s == 0})
    return x
