"""Score matching (Vincent 2011; Song & Ermon 2019, "Generative Modeling by Estimating Gradients of the
Data Distribution") and the bridge between scores and ε-prediction.

The score is s(x) = ∇_x log p(x). The Fisher divergence E_p‖∇log p − s_θ‖² needs the unknown true score;
denoising score matching replaces it by the score of the noising kernel, which we do know:

    x̃ = x + σ ε   ⇒   ∇_x̃ log q_σ(x̃ | x) = −(x̃ − x)/σ² = −ε/σ

and E‖s_θ(x̃, σ) + ε/σ‖² has the same minimiser as the Fisher divergence to the noisy density p_σ.
With several noise levels σ_1 > … > σ_L the terms are weighted by λ(σ) = σ², which makes them all O(1).
The network for it is ``models.ScoreMLP``; trained, it is read through ``processes.VE`` (time = σ).

ε ↔ score: the lecture's  s_θ(x_t, t) = −ε_θ(x_t, t)/σ_t  (VE: x_t = x_0 + σ_t ε), and in the VP form
s = −ε/√(1 − ᾱ_t) (``forward.score_from_eps``).
"""
from __future__ import annotations

import math

import torch

from ._checks import check_batched, check_int, check_real
from ._random import randint, randn


def geometric_sigmas(sigma_max: float, sigma_min: float, levels: int) -> torch.Tensor:
    """The noise ladder σ_1 = sigma_max > … > σ_L = sigma_min, geometrically spaced (float64)."""
    sigma_max = check_real("sigma_max", sigma_max, low=0, low_open=True)
    sigma_min = check_real("sigma_min", sigma_min, low=0, low_open=True)
    levels = check_int("levels", levels, low=1)
    if levels > 1 and not sigma_min < sigma_max:
        raise ValueError(f"sigma_min must be < sigma_max, got sigma_min={sigma_min}, sigma_max={sigma_max}")
    if levels == 1:
        return torch.tensor([sigma_max], dtype=torch.float64)
    s = torch.exp(torch.linspace(math.log(sigma_max), math.log(sigma_min), levels, dtype=torch.float64))
    s[0], s[-1] = sigma_max, sigma_min  # exactly the ends asked for (exp(log σ) may round)
    return s


def check_sigmas(sigmas) -> torch.Tensor:
    s = torch.as_tensor(sigmas, dtype=torch.float64).flatten()
    if s.numel() == 0:
        raise ValueError("sigmas must not be empty")
    if not torch.isfinite(s).all() or (s <= 0).any():
        raise ValueError("every σ in sigmas must be finite and > 0")
    if (s[1:] >= s[:-1]).any():
        raise ValueError("sigmas must be strictly decreasing (σ_max first)")
    return s


def score_from_eps_ve(eps: torch.Tensor, sigma) -> torch.Tensor:
    """s = −ε/σ for x = x_0 + σ ε (σ a float or a tensor broadcastable to eps)."""
    return -eps / torch.as_tensor(sigma, dtype=eps.dtype, device=eps.device)


def eps_from_score_ve(score: torch.Tensor, sigma) -> torch.Tensor:
    return -score * torch.as_tensor(sigma, dtype=score.dtype, device=score.device)


def _per_sample(sigma, x: torch.Tensor) -> torch.Tensor:
    s = torch.as_tensor(sigma, dtype=x.dtype, device=x.device)
    if s.ndim == 0:
        s = s.expand(x.shape[0])
    if s.shape != (x.shape[0],) or (s <= 0).any():
        raise ValueError("sigma must be > 0, a number or a tensor of shape (batch,)")
    return s


def dsm_loss(score_model, x: torch.Tensor, sigma, generator=None) -> torch.Tensor:
    """½ E ‖s_θ(x + σε, σ) + ε/σ‖² at one noise level σ (a number or a (B,) tensor)."""
    check_batched("x", x)
    s = _per_sample(sigma, x)
    eps = randn(x.shape, x, generator)
    sb = s.reshape(-1, *([1] * (x.ndim - 1)))
    pred = score_model(x + sb * eps, s)
    return 0.5 * ((pred + eps / sb) ** 2).flatten(1).sum(1).mean()


def ncsn_loss(score_model, x: torch.Tensor, sigmas: torch.Tensor, generator=None) -> torch.Tensor:
    """Song & Ermon's multi-scale objective: σ drawn uniformly from the ladder, weight λ(σ) = σ².

    ½ λ(σ) ‖s_θ + ε/σ‖² = ½ ‖σ s_θ + ε‖²: each level contributes on the same scale.
    """
    check_batched("x", x)
    sig = check_sigmas(sigmas).to(x.dtype)
    idx = randint(0, sig.numel(), (x.shape[0],), sig, generator)
    s = sig[idx].to(x.device)
    eps = randn(x.shape, x, generator)
    sb = s.reshape(-1, *([1] * (x.ndim - 1)))
    pred = score_model(x + sb * eps, s)
    return 0.5 * ((sb * pred + eps) ** 2).flatten(1).sum(1).mean()
