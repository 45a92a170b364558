"""Diffusion beside the other families: sampling in one call, and its likelihood bound in nats.

A DDPM (Ho, Jain & Abbeel 2020) is a VAE with a fixed encoder: the forward chain q(x_{1:T} | x_0) plays the
role of q_φ(z | x), and the learned reverse chain p_θ(x_{t−1} | x_t) = N(μ_θ(x_t, t), σ_t² I) the decoder. The
same Jensen step therefore bounds its log-likelihood (Sohl-Dickstein et al. 2015; Ho et al. eq. 5):

    −log p_θ(x_0) ≤ L_T + Σ_{t=2}^{T} L_{t−1} + L_0,
    L_T     = KL(q(x_T | x_0) ‖ N(0, I))                               (no parameter: ≈ 0)
    L_{t−1} = E_q KL(q(x_{t−1} | x_t, x_0) ‖ p_θ(x_{t−1} | x_t))        (Gaussians: closed form)
    L_0     = −E_q log N(x_0; μ_θ(x_1, 1), σ_1² I)                       (a Gaussian decoder at t = 1)

``elbo`` evaluates every term at every t (one network call per step for the whole batch, like one DDPM run)
with σ_t² = β_t, the variance ``ddpm_sample`` uses. The network was trained on L_simple, which drops the
weights of these terms, so the bound it reaches is looser than what an ELBO-trained one would.
"""
from __future__ import annotations

import torch

from ..forward import ddpm_mean, gaussian_kl, q_posterior, q_sample
from ..samplers import ddim_sample, ddpm_sample
from .._checks import check_batched, check_int
from .._random import randn
from ._common import check_draw


@torch.no_grad()
def sample(model, n: int, generator: torch.Generator | None = None, steps: int | None = None,
           dim: int = 2) -> torch.Tensor:
    """n samples from x_T ~ N(0, I): DDPM on every step (``steps=None``) or DDIM on ``steps`` steps."""
    n, dim = check_draw(n, generator), check_int("dim", dim, low=1)
    x = torch.randn(n, dim, generator=generator).to(getattr(model, "device", "cpu"))
    return ddpm_sample(model, x, generator=generator) if steps is None else ddim_sample(model, x, steps)


@torch.no_grad()
def elbo(model, x0: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """The lower bound −(L_T + Σ L_{t−1} + L_0) ≤ log p_θ(x_0) for each point, in nats: (B,) float64.

    model: a ``DiffusionModel`` on a ``DiscreteVP`` process (e.g. ``pretrained("ring8-mlp")``), or an exact
           one (``mixture.model(process)``: then only the chain's own approximations remain in the gap).
    """
    process = model.process
    if not getattr(process, "discrete", False):
        raise ValueError("elbo needs a model on a DiscreteVP process (the DDPM chain)")
    check_batched("x0", x0)
    sched, dev = process.sched, getattr(model, "device", "cpu")  # an exact model runs on the CPU, in float64
    dtype = next(model.net.parameters()).dtype if hasattr(model, "net") else torch.float64  # a network: its own
    x0 = x0.detach().to(torch.float64).cpu()
    ab_T = sched.alpha_bars[process.T]
    nll = gaussian_kl(ab_T.sqrt() * x0, 1 - ab_T, torch.zeros_like(x0), 1.0).sum(-1)           # L_T
    for t in range(process.T, 0, -1):
        xt = q_sample(x0, t, sched, noise=randn(x0.shape, x0, generator))
        eps = model.eps(xt.to(dev, dtype), t).double().cpu()
        mean = ddpm_mean(xt, t, eps, sched)                                                   # μ_θ(x_t, t)
        var = sched.betas[t]                                                                  # σ_t² = β_t
        if t > 1:
            q_mean, q_var = q_posterior(x0, xt, t, sched)
            nll = nll + gaussian_kl(q_mean, q_var, mean, var).sum(-1)                         # L_{t−1}
        else:
            nll = nll + (0.5 * (x0 - mean) ** 2 / var + 0.5 * torch.log(2 * torch.pi * var)).sum(-1)  # L_0
    return -nll
