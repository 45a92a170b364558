"""Forward SDEs dx = f(x, t) dt + g(t) dw on t ∈ [0, 1] (Song et al. 2021, "Score-Based Generative
Modeling through Stochastic Differential Equations").

Both have Gaussian perturbation kernels x_t = a(t)·x_0 + b(t)·ε, returned by ``marginal(t)``:

    VE:  f = 0,             g = σ(t)·√(2 ln(σ_max/σ_min)),   σ(t) = σ_min (σ_max/σ_min)^t,   a = 1, b = σ(t)
    VP:  f = −½ β(t) x,     g = √β(t),   β(t) = β_min + t(β_max − β_min),   a = e^{−½∫β}, b = √(1 − a²)

VE is the continuous limit of the noise ladder of lessons 03–04 (p_0 is the data blurred by σ_min); VP
with β_min = 0.1, β_max = 20 is the limit of DDPM's linear schedule (β_t = β(t/T)/T for T = 1000).
The reverse-time SDE and the probability-flow ODE share these marginals:

    reverse SDE  dx = [f − g² ∇log p_t(x)] dt + g dw̄          (t running from 1 to 0)
    PF-ODE       dx/dt = f − ½ g² ∇log p_t(x)
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ._checks import check_int, check_real
from ._random import randn


def _t(t, x: torch.Tensor) -> torch.Tensor:
    t = torch.as_tensor(t, dtype=x.dtype, device=x.device)
    return t.expand(x.shape[0]) if t.ndim == 0 else t


def _col(v: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return v.reshape(-1, *([1] * (x.ndim - 1)))


@dataclass(frozen=True)
class VESDE:
    sigma_min: float = 0.01
    sigma_max: float = 50.0
    t_min: float = 0.0

    def __post_init__(self):
        check_real("sigma_min", self.sigma_min, low=0, low_open=True)
        check_real("sigma_max", self.sigma_max, low=0, low_open=True)
        if not self.sigma_min < self.sigma_max:
            raise ValueError(f"sigma_min must be < sigma_max, got {self.sigma_min} and {self.sigma_max}")

    def sigma(self, t: torch.Tensor) -> torch.Tensor:
        return self.sigma_min * (self.sigma_max / self.sigma_min) ** t

    def drift(self, x, t):
        return torch.zeros_like(x)

    def diffusion(self, t: torch.Tensor) -> torch.Tensor:
        return self.sigma(t) * math.sqrt(2 * math.log(self.sigma_max / self.sigma_min))

    def marginal(self, t: torch.Tensor):
        return torch.ones_like(t), self.sigma(t)

    def prior(self, shape, generator=None, dtype=torch.float32) -> torch.Tensor:
        return self.sigma_max * torch.randn(shape, generator=generator, dtype=dtype)


@dataclass(frozen=True)
class VPSDE:
    beta_min: float = 0.1
    beta_max: float = 20.0
    t_min: float = 1e-3  # b(t) → 0 at t = 0: stop just short of it, as Song et al. do

    def __post_init__(self):
        check_real("beta_min", self.beta_min, low=0, low_open=True)
        check_real("beta_max", self.beta_max, low=0, low_open=True)
        if not self.beta_min <= self.beta_max:
            raise ValueError("beta_min must be <= beta_max")

    def beta(self, t: torch.Tensor) -> torch.Tensor:
        return self.beta_min + t * (self.beta_max - self.beta_min)

    def drift(self, x, t):
        return -0.5 * _col(self.beta(_t(t, x)), x) * x

    def diffusion(self, t: torch.Tensor) -> torch.Tensor:
        return torch.sqrt(self.beta(t))

    def marginal(self, t: torch.Tensor):
        log_a = -0.25 * t**2 * (self.beta_max - self.beta_min) - 0.5 * t * self.beta_min
        a = torch.exp(log_a)
        return a, torch.sqrt(-torch.expm1(2 * log_a))

    def prior(self, shape, generator=None, dtype=torch.float32) -> torch.Tensor:
        return torch.randn(shape, generator=generator, dtype=dtype)

    def timestep(self, t: torch.Tensor, T: int = 1000) -> torch.Tensor:
        """The discrete DDPM step that corresponds to continuous time t (as a float position)."""
        return t * T


def time_grid(sde, steps: int, t_max: float = 1.0) -> torch.Tensor:
    """steps + 1 times from t_max down to the SDE's t_min, evenly spaced (float64)."""
    steps = check_int("steps", steps, low=1)
    return torch.linspace(t_max, sde.t_min, steps + 1, dtype=torch.float64)


def score_fn_from_eps(eps_model, sde: VPSDE, T: int = 1000):
    """A continuous-time score s(x, t) = −ε_θ(x, T·t)/b(t) from a network trained on DDPM's steps 1..T."""

    def score(x, t):
        t = _t(t, x)
        _, b = sde.marginal(t)
        return -eps_model(x, sde.timestep(t, T)) / _col(b, x)

    return score


def exact_score_fn(mixture, sde):
    """The true ∇log p_t(x) of a toy ``GaussianMixture`` under the SDE's perturbation kernel."""

    def score(x, t):
        t = _t(t, x)
        a, b = sde.marginal(t.to(torch.float64))
        return mixture.score(x, a, b)

    return score


def forward_simulate(sde, x0: torch.Tensor, steps: int, generator=None):
    """Euler–Maruyama on the forward SDE from t = 0 to 1: returns the times and the path (steps+1, B, d)."""
    steps = check_int("steps", steps, low=1)
    ts = torch.linspace(0.0, 1.0, steps + 1, dtype=torch.float64)
    x, path = x0.clone(), [x0.clone()]
    for t0, t1 in zip(ts[:-1], ts[1:]):
        dt = float(t1 - t0)
        z = randn(x.shape, x, generator)
        x = x + sde.drift(x, t0) * dt + sde.diffusion(t0).to(x.dtype) * math.sqrt(dt) * z
        path.append(x.clone())
    return ts, torch.stack(path)
