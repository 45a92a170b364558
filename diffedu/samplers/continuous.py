"""Continuous-time samplers (Song et al. 2021): the reverse SDE and the probability-flow ODE, for any
continuous process (``VPSDE``, ``VESDE``, ``CosineVP``, ``VE``, ``Linear``).

With the process's forward SDE dx = f(t) x dt + g(t) dw (``process.drift_diffusion``):

    reverse SDE  dx = [f x − g² ∇log p_t(x)] dt + g dw̄        (t running down the grid)
    PF-ODE       dx/dt = f x − ½ g² ∇log p_t(x) = E[α' x_0 + σ' ε | x_t] = ``model.velocity(x, t)``

The ODE also runs forwards (an increasing grid): that is the encoder, data → noise. For flow matching's
``Linear`` process the PF-ODE is the learned velocity field itself: ``euler_sample`` and ``heun_sample`` are
its two methods under the names flow-matching papers use.
"""
from __future__ import annotations

import math

import torch

from .._checks import check_int, check_real
from .common import alpha_sigma, checked, grid_of, noise, report, start, tt


@torch.no_grad()
def reverse_sde_sample(model, x: torch.Tensor, grid, *, corrector_steps: int = 0, snr: float = 0.16,
                       generator=None, callback=None) -> torch.Tensor:
    """Euler–Maruyama on the reverse SDE from grid[0] down to grid[-1].

    corrector_steps > 0 turns it into a predictor–corrector sampler: after each step, that many Langevin
    steps at the new time with step size 2(snr·‖z‖/‖s‖)² (Song et al. 2021, Algorithm 5; norms averaged
    over the batch). The last step returns the mean (no noise added), as Song et al. do.
    """
    corrector_steps = check_int("corrector_steps", corrector_steps, low=0)
    snr = check_real("snr", snr, low=0, low_open=True)
    ts = grid_of(model, grid)
    x = start(x, generator, callback)
    nfe = 0
    for i, (t, s) in enumerate(zip(ts[:-1], ts[1:])):
        dt = t - s
        f, g2 = (float(v) for v in model.process.drift_diffusion(torch.tensor(t, dtype=torch.float64)))
        score = checked("the model's score", model.score(x, tt(model, t, x)), x)
        a_t, s_t = alpha_sigma(model, t, x)
        x0_hat = (x + s_t**2 * score) / a_t
        x_mean = x - (f * x - g2 * score) * dt
        last = i == len(ts) - 2
        x = x_mean if last else x_mean + math.sqrt(g2 * dt) * noise(x, generator)
        nfe += 1
        for _ in range(0 if last else corrector_steps):
            score = model.score(x, tt(model, s, x))
            z = noise(x, generator)
            # norms averaged over the batch, as in Song et al.'s code: in low dimension a per-sample
            # ‖z‖/‖s‖ is wildly noisy (‖s‖ → 0 at a mode's centre) and single particles would be flung away
            ratio = z.flatten(1).norm(dim=1).mean() / score.flatten(1).norm(dim=1).mean().clamp(min=1e-12)
            step = 2 * (snr * ratio) ** 2
            x = x + step * score + torch.sqrt(2 * step) * z
            nfe += 1
        report(callback, i, t, s, x, x0_hat, nfe, last)
    return x


@torch.no_grad()
def probability_flow_ode(model, x: torch.Tensor, grid, *, method: str = "heun", callback=None) -> torch.Tensor:
    """Integrate dx/dt = ``model.velocity(x, t)`` along ``grid`` (either direction) with Euler or Heun.

    Heun (the trapezoidal corrector of Karras et al. 2022) costs two evaluations per step and is
    second-order accurate; Euler costs one. A step that lands on σ = 0 is taken with Euler (Karras et al.).
    """
    if method not in ("euler", "heun"):
        raise ValueError(f"method must be 'euler' or 'heun', got {method!r}")
    ts = grid_of(model, grid, increasing_ok=True)
    x = start(x, None, callback)

    def velocity(x, t):  # dx/dt = α' x̂_0 + σ' ε̂ from one evaluation; x̂_0 for the callback
        x0_hat, eps = (checked("the model", v, x) for v in model.x0_eps(x, tt(model, t, x)))
        da, ds = (float(v) for v in model.process.d_alpha_sigma(torch.tensor(t, dtype=torch.float64)))
        return da * x0_hat + ds * eps, x0_hat

    nfe = 0
    for i, (t, s) in enumerate(zip(ts[:-1], ts[1:])):
        h = s - t
        d, x0_hat = velocity(x, t)
        nfe += 1
        if method == "heun" and alpha_sigma(model, s, x)[1] > 0:
            x = heun_step(lambda x, t: velocity(x, t)[0], x, t, s, h, d)
            nfe += 1
        else:
            x = x + h * d
        report(callback, i, t, s, x, x0_hat, nfe, i == len(ts) - 2)
    return x


def heun_step(velocity, x: torch.Tensor, t, s, h, d: torch.Tensor | None = None) -> torch.Tensor:
    """One Heun step t → s of dx/dt = velocity(x, t) (the trapezoidal corrector of Karras et al. 2022, Alg. 1):
    the Euler point x + h d, then the average of the slopes at both ends. h = s − t (a number or a column);
    d, the slope at (x, t), if the caller already has it."""
    d = velocity(x, t) if d is None else d
    x_euler = x + h * d
    return x + h * 0.5 * (d + velocity(x_euler, s))


def euler_sample(model, x: torch.Tensor, grid=50, *, callback=None) -> torch.Tensor:
    """Euler on the velocity ODE dx/dt = u(x, t) down the decreasing grid, one evaluation a step: flow matching's
    sampler (``probability_flow_ode(method="euler")``; for ``Linear`` it is DDIM with η = 0, step for step)."""
    return probability_flow_ode(model, x, grid_of(model, grid), method="euler", callback=callback)


def heun_sample(model, x: torch.Tensor, grid=50, *, callback=None) -> torch.Tensor:
    """Heun down the decreasing grid, two evaluations a step, second-order accurate (``probability_flow_ode``).

    A step that lands on σ = 0 (t = 0 for Linear) is taken with Euler, as in Karras et al.: an x_0- or
    score-model has no ε̂ there. So N steps to the data cost 2N − 1 evaluations (the callback's nfe).
    """
    return probability_flow_ode(model, x, grid_of(model, grid), method="heun", callback=callback)
