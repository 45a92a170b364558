"""Training objectives of the lecture's "Backward pass" slides (Ho et al. 2020, §3.2–3.4).

The ELBO's t-th term, with p_θ(x_{t−1}|x_t) = N(μ_θ, σ_t² I) and μ_θ written through ε_θ, is

    L_{t−1} = β_t² / (2 σ_t² α_t (1 − ᾱ_t)) · ‖ε − ε_θ(x_t, t)‖²

(the slides print this weight with Σ(t) = σ_t²). Ho et al. drop the weight and train on
L_simple = E‖ε − ε_θ‖². ``diffusion_loss`` computes either, for a network predicting ε, x_0 or v.
"""
from __future__ import annotations

import torch

from ._checks import check_batched
from ._random import randint, randn
from .forward import q_sample, to_eps, v_target
from .schedules import Schedule

PARAMETERIZATIONS = ("eps", "x0", "v")


def elbo_weight(sched: Schedule, sigma2: str = "beta") -> torch.Tensor:
    """β_t² / (2 σ_t² α_t (1 − ᾱ_t)) for t = 0..T (entry 0 unused, set to 0), float64.

    sigma2="beta" uses σ_t² = β_t; "beta_tilde" uses β̃_t, whose t = 1 value is 0 (the weight would be
    infinite there: Ho et al. handle that term with a separate decoder), so there we fall back to β_1.
    """
    if sigma2 not in ("beta", "beta_tilde"):
        raise ValueError(f"sigma2 must be 'beta' or 'beta_tilde', got {sigma2!r}")
    var = sched.betas.clone() if sigma2 == "beta" else sched.posterior_variances.clone()
    var[1] = sched.betas[1] if sigma2 == "beta_tilde" else var[1]
    w = torch.zeros_like(var)
    w[1:] = sched.betas[1:] ** 2 / (2 * var[1:] * sched.alphas[1:] * (1 - sched.alpha_bars[1:]))
    return w


def diffusion_loss(model, x0: torch.Tensor, sched: Schedule, *, parameterization: str = "eps",
                   weighting: str = "simple", t: torch.Tensor | None = None,
                   generator: torch.Generator | None = None, **model_kwargs) -> torch.Tensor:
    """One Monte-Carlo estimate of the loss on a batch x0 (Algorithm 1, line 5).

    weighting="simple": mean squared error of the network's own target (ε, x_0 or v): L_simple.
    weighting="elbo":   T · E_t[ weight_t · ‖ε − ε̂‖² ] summed over dimensions — the ELBO terms
                        L_{1..T−1} in nats per sample (up to the constant L_T and the decoder L_0).
    t: optionally the timesteps (B,), otherwise drawn uniformly from {1, …, T}.
    """
    check_batched("x0", x0)
    if parameterization not in PARAMETERIZATIONS:
        raise ValueError(f"parameterization must be one of {PARAMETERIZATIONS}, got {parameterization!r}")
    if weighting not in ("simple", "elbo"):
        raise ValueError(f"weighting must be 'simple' or 'elbo', got {weighting!r}")
    B = x0.shape[0]
    if t is None:
        t = randint(1, sched.T + 1, (B,), x0, generator)
    eps = randn(x0.shape, x0, generator)
    xt = q_sample(x0, t, sched, noise=eps)
    pred = model(xt, t, **model_kwargs)
    if weighting == "simple":
        target = {"eps": eps, "x0": x0, "v": v_target(x0, eps, t, sched)}[parameterization]
        return ((pred - target) ** 2).mean()
    eps_hat = to_eps(pred, xt, t, sched, parameterization)
    per_sample = ((eps - eps_hat) ** 2).flatten(1).sum(1)
    return sched.T * (sched.at(elbo_weight(sched), t, per_sample) * per_sample).mean()


def as_eps_fn(model, sched: Schedule, parameterization: str = "eps", **model_kwargs):
    """Wrap a network of any parameterization as the ``eps_fn(x, t)`` the samplers take."""
    if parameterization not in PARAMETERIZATIONS:
        raise ValueError(f"parameterization must be one of {PARAMETERIZATIONS}, got {parameterization!r}")

    param = next(model.parameters(), None) if hasattr(model, "parameters") else None
    model_dtype = param.dtype if param is not None else None

    def eps_fn(x, t):  # runs the network in its own dtype; returns ε̂ in the caller's (e.g. float64 samplers)
        xin = x.to(model_dtype) if model_dtype is not None else x
        return to_eps(model(xin, t, **model_kwargs), xin, t, sched, parameterization).to(x.dtype)

    return eps_fn
