"""The SDE view of the forward process (Song et al. 2021, "Score-Based Generative Modeling through
Stochastic Differential Equations").

Every continuous process of ``diffedu.processes`` is the marginal of a linear SDE dx = f(t) x dt + g(t) dw:

    VE (``VESDE``):  f = 0,          g = σ(t)·√(2 ln(σ_max/σ_min)),   σ(t) = σ_min (σ_max/σ_min)^t
    VP (``VPSDE``):  f = −½ β(t),    g = √β(t),   β(t) = β_min + t(β_max − β_min),   α_t = e^{−½∫β}, σ_t = √(1 − α_t²)

VE is the continuous limit of the noise ladder of lessons 03–04 (p_0 is the data blurred by σ_min); VP
with β_min = 0.1, β_max = 20 is the limit of DDPM's linear schedule (β_t = β(t/T)/T for T = 1000), which is
why a network trained on DDPM's steps reads as a VP-SDE model with ``model.with_process(VPSDE())``
(its network then sees the step 1000·t). The reverse-time SDE and the probability-flow ODE share the marginals:

    reverse SDE  dx = [f x − g² ∇log p_t(x)] dt + g dw̄          (t running from 1 to 0)
    PF-ODE       dx/dt = f x − ½ g² ∇log p_t(x)

Their samplers are ``samplers.reverse_sde_sample`` and ``samplers.probability_flow_ode``.
"""
from __future__ import annotations

import math

import torch

from ._checks import check_batched, check_int
from ._random import randn
from .processes import VESDE, VPSDE, Process

__all__ = ["VESDE", "VPSDE", "forward_simulate"]


def forward_simulate(process: Process, x0: torch.Tensor, steps: int, generator=None):
    """Euler–Maruyama on the forward SDE from t = 0 to 1: returns the times and the path (steps+1, B, d)."""
    steps = check_int("steps", steps, low=1)
    check_batched("x0", x0)
    ts = torch.linspace(0.0, 1.0, steps + 1, dtype=torch.float64)
    x, path = x0.clone(), [x0.clone()]
    for t0, t1 in zip(ts[:-1], ts[1:]):
        dt = float(t1 - t0)
        z = randn(x.shape, x, generator)
        x = x + process.drift(x, t0) * dt + float(process.diffusion(t0)) * math.sqrt(dt) * z
        path.append(x.clone())
    return ts, torch.stack(path)
