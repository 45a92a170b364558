"""The forward (noising) process q and the Gaussian algebra around it (Ho et al. 2020, §2).

Shapes: ``x`` is any (B, ...) tensor — 2-D points (B, 2) or images (B, C, H, W); ``t`` is an int or an
integer tensor of shape (B,). Every function reads dtype and device from its inputs.

    one step      q(x_t | x_{t-1}) = N(√(1−β_t) x_{t−1}, β_t I)
    closed form   q(x_t | x_0)     = N(√ᾱ_t x_0, (1 − ᾱ_t) I)
    posterior     q(x_{t−1} | x_t, x_0) = N(μ̃_t, β̃_t I),
                  μ̃_t = √ᾱ_{t−1} β_t / (1 − ᾱ_t) · x_0 + √α_t (1 − ᾱ_{t−1}) / (1 − ᾱ_t) · x_t
                  β̃_t = (1 − ᾱ_{t−1}) / (1 − ᾱ_t) · β_t

The slides write the posterior with α_{t−1} where ᾱ_{t−1} belongs (bars missing); the version above is
the correct one, and ``tests/test_forward.py`` checks it against exact Gaussian conditioning.
"""
from __future__ import annotations

import torch

from ._checks import check_batched, check_finite, check_same_shape
from ._random import randn
from .schedules import Schedule


def _noise_like(x: torch.Tensor, noise, generator) -> torch.Tensor:
    if noise is None:
        return randn(x.shape, x, generator)
    check_finite("noise", noise)
    check_same_shape("noise", noise, "x", x)
    return noise


def _check_sched(sched) -> Schedule:
    if not isinstance(sched, Schedule):
        raise ValueError(f"sched must be a diffedu.schedules.Schedule (e.g. schedules.linear(1000)), "
                         f"got {sched!r}")
    return sched


def q_step(x_prev: torch.Tensor, t, sched: Schedule, noise=None, generator=None) -> torch.Tensor:
    """One Markov step x_t = √(1 − β_t) x_{t−1} + √β_t ε (t ≥ 1)."""
    check_batched("x_prev", x_prev)
    _check_sched(sched)
    _require_positive_t(t)
    beta = sched.at(sched.betas, t, x_prev)
    return torch.sqrt(1 - beta) * x_prev + torch.sqrt(beta) * _noise_like(x_prev, noise, generator)


def q_sample(x0: torch.Tensor, t, sched: Schedule, noise=None, generator=None) -> torch.Tensor:
    """Jump straight to step t: x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε (the reparametrisation trick)."""
    check_batched("x0", x0)
    ab = _check_sched(sched).at(sched.alpha_bars, t, x0)
    return torch.sqrt(ab) * x0 + torch.sqrt(1 - ab) * _noise_like(x0, noise, generator)


def q_mean_var(x0: torch.Tensor, t, sched: Schedule):
    """Mean √ᾱ_t x_0 and variance (1 − ᾱ_t) of q(x_t | x_0) (variance broadcastable to x0)."""
    ab = sched.at(sched.alpha_bars, t, x0)
    return torch.sqrt(ab) * x0, 1 - ab


def q_posterior(x0: torch.Tensor, xt: torch.Tensor, t, sched: Schedule):
    """Mean μ̃_t(x_t, x_0) and variance β̃_t of q(x_{t−1} | x_t, x_0), for t ≥ 1."""
    check_batched("x0", x0)
    check_batched("xt", xt)
    check_same_shape("x0", x0, "xt", xt)
    _require_positive_t(t)
    ab = sched.alpha_bars
    ab_prev = torch.cat([ab.new_ones(1), ab[:-1]])
    c0 = torch.sqrt(ab_prev) * sched.betas / (1 - ab).clamp(min=1e-300)      # coefficient of x_0
    ct = torch.sqrt(sched.alphas) * (1 - ab_prev) / (1 - ab).clamp(min=1e-300)  # coefficient of x_t
    mean = sched.at(c0, t, xt) * x0 + sched.at(ct, t, xt) * xt
    return mean, sched.at(sched.posterior_variances, t, xt)


# --- what a network may predict, and how to convert between them -----------------------------------
def x0_from_eps(xt, t, eps, sched: Schedule):
    """x̂_0 = (x_t − √(1 − ᾱ_t) ε) / √ᾱ_t."""
    ab = sched.at(sched.alpha_bars, t, xt)
    return (xt - torch.sqrt(1 - ab) * eps) / torch.sqrt(ab)


def eps_from_x0(xt, t, x0, sched: Schedule):
    """ε = (x_t − √ᾱ_t x_0) / √(1 − ᾱ_t)."""
    ab = sched.at(sched.alpha_bars, t, xt)
    return (xt - torch.sqrt(ab) * x0) / torch.sqrt(1 - ab)


def v_target(x0, eps, t, sched: Schedule):
    """Salimans & Ho 2022: v = √ᾱ_t ε − √(1 − ᾱ_t) x_0."""
    ab = sched.at(sched.alpha_bars, t, x0)
    return torch.sqrt(ab) * eps - torch.sqrt(1 - ab) * x0


def eps_from_v(xt, t, v, sched: Schedule):
    """ε = √(1 − ᾱ_t) x_t + √ᾱ_t v (inverse of ``v_target`` given x_t)."""
    ab = sched.at(sched.alpha_bars, t, xt)
    return torch.sqrt(1 - ab) * xt + torch.sqrt(ab) * v


def to_eps(prediction, xt, t, sched: Schedule, parameterization: str = "eps"):
    """Turn a network output in any parameterization ("eps", "x0", "v") into ε̂."""
    if parameterization == "eps":
        return prediction
    if parameterization == "x0":
        return eps_from_x0(xt, t, prediction, sched)
    if parameterization == "v":
        return eps_from_v(xt, t, prediction, sched)
    raise ValueError(f"parameterization must be 'eps', 'x0' or 'v', got {parameterization!r}")


def score_from_eps(xt, t, eps, sched: Schedule):
    """VP form of the lecture's identity: ∇ log p_t(x_t) = −ε / √(1 − ᾱ_t) (t ≥ 1: at t = 0 it is undefined)."""
    _require_positive_t(t)
    ab = sched.at(sched.alpha_bars, t, xt)
    return -eps / torch.sqrt(1 - ab)


def eps_from_score(xt, t, score, sched: Schedule):
    ab = sched.at(sched.alpha_bars, t, xt)
    return -score * torch.sqrt(1 - ab)


# --- the reverse-step mean and the ELBO's Gaussian terms --------------------------------------------
def ddpm_mean(xt, t, eps, sched: Schedule):
    """μ_θ(x_t, t) = (x_t − β_t / √(1 − ᾱ_t) · ε) / √α_t  (Algorithm 2, line 4 without the noise).

    The "In practice" slide prints this step with bars on every α; only the √(1 − ᾱ_t) carries one.
    """
    a = sched.at(sched.alphas, t, xt)
    ab = sched.at(sched.alpha_bars, t, xt)
    return (xt - (1 - a) / torch.sqrt(1 - ab) * eps) / torch.sqrt(a)


def gaussian_kl(mean1, var1, mean2, var2):
    """KL(N(mean1, var1 I) || N(mean2, var2 I)) per element (nats); variances broadcast."""
    var1 = torch.as_tensor(var1, dtype=mean1.dtype, device=mean1.device)
    var2 = torch.as_tensor(var2, dtype=mean1.dtype, device=mean1.device)
    if (var1 <= 0).any() or (var2 <= 0).any():
        raise ValueError("gaussian_kl needs strictly positive variances")
    return 0.5 * (torch.log(var2) - torch.log(var1) + (var1 + (mean1 - mean2) ** 2) / var2 - 1.0)


def gaussian_nll(x, mean, var):
    """−log N(x; mean, var I) per element (nats): ½ log(2π var) + (x − mean)² / (2 var); var broadcasts.

    The decoder term of the variational bound, L_0 = −log p_θ(x_0 | x_1) with p_θ(x_0 | x_1) = N(μ_θ(x_1, 1), σ_1² I),
    read as a density: right for continuous data such as lesson 02's ring. Ho et al.'s images are integers, and
    their decoder integrates this Gaussian over each pixel's bin of width 2/255 instead (a probability, not a
    density), which makes L_0 ≥ 0 and the whole bound a code length.
    """
    var = torch.as_tensor(var, dtype=mean.dtype, device=mean.device)
    if (var <= 0).any():
        raise ValueError("gaussian_nll needs a strictly positive variance")
    return 0.5 * torch.log(2 * torch.pi * var) + 0.5 * (x - mean) ** 2 / var


def kl_standard_normal(mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(m, diag s²) ‖ N(0, I)) = ½ Σ_j (m_j² + s_j² − 1 − log s_j²) per sample (B,), summed over every entry
    but the first dimension: the VAE's term (lesson 00) and the latent autoencoder's (lesson 09)."""
    check_same_shape("mean", mean, "logvar", logvar)
    return 0.5 * (mean**2 + logvar.exp() - 1 - logvar).flatten(1).sum(1)


def _require_positive_t(t) -> None:
    if isinstance(t, int) and t < 1 or torch.is_tensor(t) and t.numel() and int(t.min()) < 1:
        raise ValueError("t must be >= 1 here (step t = 0 is the clean data)")
