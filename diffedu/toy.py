"""2-D toy distributions, most with an exact density and an exact score at every noise level.

A ``GaussianMixture`` with isotropic components  p(x) = Σ_k w_k N(x; μ_k, s_k² I)  stays a mixture under
the forward process: if x_0 ~ p and x = a·x_0 + b·ε, then

    p_{a,b}(x) = Σ_k w_k N(x; a μ_k, (a² s_k² + b²) I)

so the noisy density, its score ∇_x log p_{a,b}(x) and the ideal denoiser's ε are all in closed form, for any
process (a, b) = (α_t, σ_t): ``mixture.model(process)`` is the exact model samplers take like a network.
VP (DDPM): a = √ᾱ_t, b = √(1 − ᾱ_t).  VE (score-based): a = 1, b = σ.  These exact quantities are the
ground truth the lessons compare learned networks with, and what the sampler tests run on.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from ._checks import check_batched, check_int, check_real
from .model import FunctionModel


@dataclass(frozen=True)
class GaussianMixture:
    means: torch.Tensor    # (K, d)
    stds: torch.Tensor     # (K,)  isotropic standard deviation of each component
    weights: torch.Tensor  # (K,)  summing to 1
    name: str = "mixture"

    def __post_init__(self):
        m = torch.as_tensor(self.means, dtype=torch.float64)
        s = torch.as_tensor(self.stds, dtype=torch.float64).flatten()
        w = torch.as_tensor(self.weights, dtype=torch.float64).flatten()
        if m.ndim != 2 or m.shape[0] != s.numel() or s.numel() != w.numel():
            raise ValueError("means must be (K, d), stds and weights (K,)")
        if not (torch.isfinite(m).all() and torch.isfinite(s).all() and torch.isfinite(w).all()):
            raise ValueError("means, stds and weights must be finite")
        if not (s > 0).all():
            raise ValueError("stds must be > 0")
        if (w < 0).any() or not math.isclose(float(w.sum()), 1.0, rel_tol=1e-6):
            raise ValueError("weights must be >= 0 and sum to 1")
        w = w / w.sum()
        for k, v in (("means", m), ("stds", s), ("weights", w)):
            object.__setattr__(self, k, v)

    @property
    def dim(self) -> int:
        return self.means.shape[1]

    # --- sampling ---------------------------------------------------------------------------------
    def sample(self, n: int, generator: torch.Generator | None = None, dtype=torch.float32,
               return_labels: bool = False):
        n = check_int("n", n, low=1)
        k = torch.multinomial(self.weights, n, replacement=True, generator=generator)
        z = torch.randn(n, self.dim, generator=generator, dtype=torch.float64)
        x = (self.means[k] + self.stds[k, None] * z).to(dtype)
        return (x, k) if return_labels else x

    # --- exact densities at a noise level (a, b): x = a·x_0 + b·ε ----------------------------------
    def _component_terms(self, x: torch.Tensor, a, b):
        """log w_k N(x; a μ_k, v_k I) for every sample and component: (B, K), plus means and variances."""
        x64 = x.to(torch.float64)
        a = torch.as_tensor(a, dtype=torch.float64, device=x.device).reshape(-1, 1)  # (B or 1, 1)
        b = torch.as_tensor(b, dtype=torch.float64, device=x.device).reshape(-1, 1)
        mu = a[:, :, None] * self.means.to(x.device)[None]                           # (B, K, d)
        var = a**2 * self.stds.to(x.device)[None] ** 2 + b**2                           # (B, K)
        sq = ((x64[:, None, :] - mu) ** 2).sum(-1)                                     # (B, K)
        logw = torch.log(self.weights.to(x.device).clamp(min=1e-300))[None]
        log_terms = logw - 0.5 * sq / var - 0.5 * self.dim * torch.log(2 * math.pi * var)
        return log_terms, mu, var

    def log_prob(self, x: torch.Tensor, a=1.0, b=0.0) -> torch.Tensor:
        """log p_{a,b}(x), shape (B,), in float64. Defaults give the clean density."""
        self._check_x(x)
        log_terms, _, _ = self._component_terms(x, a, b)
        return torch.logsumexp(log_terms, dim=1)

    def score(self, x: torch.Tensor, a=1.0, b=0.0) -> torch.Tensor:
        """∇_x log p_{a,b}(x) = Σ_k r_k(x) (a μ_k − x) / v_k, r_k the posterior responsibilities."""
        self._check_x(x)
        log_terms, mu, var = self._component_terms(x, a, b)
        r = torch.softmax(log_terms, dim=1)                                             # (B, K)
        s = (r[:, :, None] * (mu - x.to(torch.float64)[:, None, :]) / var[:, :, None]).sum(1)
        return s.to(x.dtype)

    def fixed_level_score(self, a: float = 1.0, b: float = 0.0):
        """``score(x, a, b)`` for one fixed noise level, with its constants computed once.

        The same formula in about six tensor operations per call: what the Langevin animations use to
        run a thousand steps within a slider move. x must be float64 of shape (B, d).
        """
        a, b = float(a), float(b)
        mu = a * self.means                                                   # (K, d)
        var = a**2 * self.stds**2 + b**2                                      # (K,)
        inv = 1.0 / var
        const = torch.log(self.weights.clamp(min=1e-300)) - 0.5 * self.dim * torch.log(2 * math.pi * var)

        def score(x: torch.Tensor) -> torch.Tensor:
            diff = mu[None] - x[:, None, :]                                   # (B, K, d)
            r = torch.softmax(const - 0.5 * inv * (diff * diff).sum(-1), dim=1)
            return torch.einsum("bk,bkd->bd", r * inv, diff)

        return score

    def posterior_labels(self, x: torch.Tensor, a=1.0, b=0.0) -> torch.Tensor:
        """p(k | x) for every component, shape (B, K): the exact noisy classifier of lesson 07."""
        self._check_x(x)
        log_terms, _, _ = self._component_terms(x, a, b)
        return torch.softmax(log_terms, dim=1).to(x.dtype)

    def posterior_mean(self, x: torch.Tensor, a=1.0, b=0.0) -> torch.Tensor:
        """E[x_0 | a·x_0 + b·ε = x], shape (B, d), float64: the ideal denoiser (Tweedie's formula, solved for x_0).

        Per component x_0 | x, k is Gaussian with mean μ_k + a s_k²/(a² s_k² + b²) (x − a μ_k); the posterior
        responsibilities r_k(x) weight them. Finite for every (a, b) ≠ (0, 0), also at a = 0 (pure noise),
        where it is the mixture's mean — unlike the score route x̂_0 = (x + b² ∇log p)/a.
        """
        self._check_x(x)
        log_terms, mu, var = self._component_terms(x, a, b)
        r = torch.softmax(log_terms, dim=1)                                             # (B, K)
        a = torch.as_tensor(a, dtype=torch.float64, device=x.device).reshape(-1, 1)     # (B or 1, 1)
        gain = a * self.stds.to(x.device)[None] ** 2 / var                              # (B, K)
        comp = self.means.to(x.device)[None] + gain[:, :, None] * (x.to(torch.float64)[:, None, :] - mu)
        return (r[:, :, None] * comp).sum(1)

    # --- the mixture as a diffusion model --------------------------------------------------------------
    def x0_model(self, process) -> FunctionModel:
        """The ideal model of this mixture under ``process``, predicting x_0: x̂_0 = E[x_0 | x_t].

        The same model as ``model(process)`` wherever both are defined, but this one is also finite where
        α_t = 0 (``Linear`` and ``CosineVP`` at t = 1), so flow-matching samplers can start from pure noise;
        ``x0_model(Linear()).velocity(x, t)`` is the exact marginal velocity E[x_1 − x_0 | x_t = x] (t > 0).
        """
        def x0(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
            a, s = process.alpha_sigma(t)
            return self.posterior_mean(x, a, s).to(x.dtype)

        return FunctionModel(x0, process, "x0")

    def model(self, process) -> FunctionModel:
        """The ideal model of this mixture under ``process``: the exact score of p_t at every time.

        Samplers take it like a trained network; ``model.eps(x, t)`` is what a perfectly trained ε-network
        would return. A batch at one shared time (every sampler step) uses ``fixed_level_score``'s constants.
        """
        cache: dict = {}

        def score(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
            a, s = process.alpha_sigma(t)
            if t.numel() and bool((t == t[0]).all()):
                key = float(t[0])
                if key not in cache:
                    if len(cache) > 4096:
                        cache.clear()
                    cache[key] = self.fixed_level_score(float(a[0]), float(s[0]))
                self._check_x(x)
                return cache[key](x.to(torch.float64)).to(x.dtype)
            return self.score(x, a, s)

        return FunctionModel(score, process, "score")

    def mode_fractions(self, x: torch.Tensor) -> np.ndarray:
        """The fraction of the points x nearest (by posterior) to each component, to compare with the weights."""
        k = self.posterior_labels(x).argmax(1)
        return (torch.bincount(k, minlength=len(self.weights)).double() / x.shape[0]).numpy()

    def conditional(self, keep) -> "GaussianMixture":
        """The mixture restricted to the components ``keep`` (a "class"), renormalised."""
        idx = torch.as_tensor(keep, dtype=torch.long).flatten()
        w = self.weights[idx]
        return GaussianMixture(self.means[idx], self.stds[idx], w / w.sum(), f"{self.name}|{idx.tolist()}")

    def _check_x(self, x):
        check_batched("x", x)
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(f"x must have shape (batch, {self.dim}), got {tuple(x.shape)}")


# --- the lessons' data sets -------------------------------------------------------------------------
def ring(k: int = 8, radius: float = 2.0, std: float = 0.15) -> GaussianMixture:
    """k Gaussians evenly spaced on a circle (the classic "8 Gaussians")."""
    k = check_int("k", k, low=1)
    ang = torch.arange(k, dtype=torch.float64) * 2 * math.pi / k
    means = radius * torch.stack([torch.cos(ang), torch.sin(ang)], 1)
    return GaussianMixture(means, torch.full((k,), std), torch.full((k,), 1.0 / k), f"ring{k}")


def grid(side: int = 5, spacing: float = 1.0, std: float = 0.08) -> GaussianMixture:
    """side × side Gaussians on a square grid centred at 0."""
    side = check_int("side", side, low=1)
    c = (torch.arange(side, dtype=torch.float64) - (side - 1) / 2) * spacing
    means = torch.cartesian_prod(c, c)
    n = side * side
    return GaussianMixture(means, torch.full((n,), std), torch.full((n,), 1.0 / n), f"grid{n}")


def unbalanced(weight: float = 0.8, separation: float = 4.0, std: float = 0.4) -> GaussianMixture:
    """Two modes with weights (weight, 1 − weight): the case where plain Langevin gets the weights wrong."""
    weight = check_real("weight", weight, low=0, high=1, low_open=True, high_open=True)
    means = torch.tensor([[-separation / 2, 0.0], [separation / 2, 0.0]], dtype=torch.float64)
    return GaussianMixture(means, torch.full((2,), std), torch.tensor([weight, 1 - weight], dtype=torch.float64),
                           "unbalanced")


def sklearn_sample(name: str, n: int, noise: float = 0.05, seed: int = 0) -> torch.Tensor:
    """Sample-only sets from scikit-learn ("moons", "swiss_roll", "circles"), scaled to unit std."""
    from sklearn import datasets

    n = check_int("n", n, low=1)
    if name == "moons":
        x, _ = datasets.make_moons(n, noise=noise, random_state=seed)
    elif name == "circles":
        x, _ = datasets.make_circles(n, noise=noise, factor=0.5, random_state=seed)
    elif name == "swiss_roll":
        x3, _ = datasets.make_swiss_roll(n, noise=noise * 10, random_state=seed)
        x = x3[:, [0, 2]]
    else:
        raise ValueError(f"name must be 'moons', 'swiss_roll' or 'circles', got {name!r}")
    x = torch.as_tensor(x, dtype=torch.float32)
    return (x - x.mean(0)) / x.std()


MIXTURES = {"ring8": ring, "grid25": grid, "unbalanced": unbalanced}
SAMPLE_ONLY = ("moons", "swiss_roll", "circles")


def make(name: str) -> GaussianMixture:
    """An exact mixture by name: "ring8", "grid25" or "unbalanced"."""
    if name not in MIXTURES:
        raise ValueError(f"mixture name must be one of {sorted(MIXTURES)}, got {name!r}")
    return MIXTURES[name]()


def sample(name: str, n: int, generator: torch.Generator | None = None, seed: int = 0) -> torch.Tensor:
    """n points from any toy set, mixture or scikit-learn."""
    if name in MIXTURES:
        return make(name).sample(n, generator)
    if name in SAMPLE_ONLY:
        return sklearn_sample(name, n, seed=seed)
    raise ValueError(f"toy set must be one of {sorted(MIXTURES) + list(SAMPLE_ONLY)}, got {name!r}")
