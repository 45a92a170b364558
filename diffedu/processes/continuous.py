"""The continuous-time processes: the VP and VE SDEs of Song et al. 2021, the cosine process of progressive
distillation, σ as time (EDM, consistency models) and the straight path of flow matching.

Each is the marginal of a linear SDE dx = f(t) x dt + g(t) dw (Song et al. 2021, "Score-Based Generative
Modeling through Stochastic Differential Equations"; ``Process.drift_diffusion``, ``Process.simulate``):

    VE (``VESDE``):  f = 0,          g = σ(t)·√(2 ln(σ_max/σ_min)),   σ(t) = σ_min (σ_max/σ_min)^t
    VP (``VPSDE``):  f = −½ β(t),    g = √β(t),   β(t) = β_min + t(β_max − β_min),   α_t = e^{−½∫β}, σ_t = √(1 − α_t²)

VE is the continuous limit of the noise ladder of lessons 03–04; VP with β_min = 0.1, β_max = 20 is the limit
of DDPM's linear schedule (β_t = β(t/T)/T for T = 1000), which is why a network trained on DDPM's steps reads
as a VP-SDE model with ``model.with_process(VPSDE())`` (its network then sees the step 1000·t). The reverse
SDE and the probability-flow ODE that share these marginals are ``samplers.reverse_sde_sample`` and
``samplers.probability_flow_ode``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from .._checks import check_real
from ..score import geometric_sigmas
from .base import Process

def _check_scale_and_start(p: Process) -> None:
    check_real("time_scale", p.time_scale, low=0, low_open=True)
    check_real("t_max", p.t_max, low=0, high=1, low_open=True)   # beyond 1, α_t would turn negative


@dataclass(frozen=True, eq=False)
class VPSDE(Process):
    """Song et al.'s VP SDE, β(t) = β_min + t(β_max − β_min): the T → ∞ limit of DDPM's linear schedule.

    time_scale: the network sees ``time_scale · t`` (1000 for a network trained on DDPM's steps 1..1000).
    """

    beta_min: float = 0.1
    beta_max: float = 20.0
    t_min: float = 1e-3   # σ_t → 0 at t = 0: stop just short of it, as Song et al. do
    time_scale: float = 1000.0

    def __post_init__(self):
        check_real("beta_min", self.beta_min, low=0, low_open=True)
        check_real("beta_max", self.beta_max, low=self.beta_min)
        check_real("t_min", self.t_min, low=0, high=1, high_open=True)
        check_real("time_scale", self.time_scale, low=0, low_open=True)

    @property
    def t_clean(self):
        return self.t_min

    def beta(self, t):
        return self.beta_min + self.times(t) * (self.beta_max - self.beta_min)

    def alpha_sigma(self, t):
        t = self.times(t)
        log_a = -0.25 * t**2 * (self.beta_max - self.beta_min) - 0.5 * t * self.beta_min
        return torch.exp(log_a), torch.sqrt(-torch.expm1(2 * log_a))

    def d_alpha_sigma(self, t):
        a, s = self.alpha_sigma(t)
        da = -0.5 * self.beta(t) * a
        return da, -a * da / s

    def drift_diffusion(self, t):
        """f = −½β(t), g² = β(t): the general formula's 0/0 at t = 0 (σ_0 = 0) avoided."""
        b = self.beta(t)
        return -0.5 * b, b

    def net_time(self, t):
        return t * self.time_scale


@dataclass(frozen=True, eq=False)
class CosineVP(Process):
    """α_t = cos(πt/2), σ_t = sin(πt/2): log-SNR λ_t = −2 log tan(πt/2) (Salimans & Ho 2022).

    t_max: where sampling starts. At t = 1, α = 0 and x̂_0 cannot be read from ε̂ or a score (v- and
    velocity-networks are fine there); start an ε-model a little earlier, e.g. t_max = 0.999.
    """

    time_scale: float = 1000.0
    t_max: float = 1.0

    def __post_init__(self):
        _check_scale_and_start(self)

    def alpha_sigma(self, t):
        u = self.times(t) * math.pi / 2
        return torch.cos(u), torch.sin(u)

    def d_alpha_sigma(self, t):
        a, s = self.alpha_sigma(t)
        return -math.pi / 2 * s, math.pi / 2 * a

    def net_time(self, t):
        return t * self.time_scale


@dataclass(frozen=True, eq=False)
class VESDE(Process):
    """Variance exploding on t ∈ [0, 1]: σ(t) = σ_min (σ_max/σ_min)^t, α = 1 (Song et al. 2021)."""

    sigma_min: float = 0.01
    sigma_max: float = 50.0

    def __post_init__(self):
        check_real("sigma_min", self.sigma_min, low=0, low_open=True)
        check_real("sigma_max", self.sigma_max)
        if not self.sigma_min < self.sigma_max:
            raise ValueError(f"sigma_min must be < sigma_max, got {self.sigma_min} and {self.sigma_max}")

    def alpha_sigma(self, t):
        t = self.times(t)
        return torch.ones_like(t), self.sigma_min * (self.sigma_max / self.sigma_min) ** t

    def d_alpha_sigma(self, t):
        _, s = self.alpha_sigma(t)
        return torch.zeros_like(s), s * math.log(self.sigma_max / self.sigma_min)


@dataclass(frozen=True, eq=False)
class VE(Process):
    """Variance exploding with time = noise level: x_σ = x_0 + σ ε (NCSN, EDM, consistency models).

    ``grid(steps)`` is geometric from σ_max to σ_min (Song & Ermon's ladder), then 0.
    """

    sigma_min: float = 0.01
    sigma_max: float = 50.0

    def __post_init__(self):
        check_real("sigma_min", self.sigma_min, low=0, low_open=True)
        check_real("sigma_max", self.sigma_max)
        if not self.sigma_min <= self.sigma_max:
            raise ValueError(f"sigma_min must be <= sigma_max, got {self.sigma_min} and {self.sigma_max}")

    t_domain = math.inf    # t is σ: any noise level ≥ 0

    @property
    def t_max(self):
        return self.sigma_max

    def alpha_sigma(self, t):
        t = self.times(t)
        return torch.ones_like(t), t

    def d_alpha_sigma(self, t):
        t = self.times(t)
        return torch.zeros_like(t), torch.ones_like(t)

    def ladder(self, levels: int) -> torch.Tensor:
        """σ_1 = σ_max > … > σ_L = σ_min, geometrically spaced (float64)."""
        return geometric_sigmas(self.sigma_max, self.sigma_min, levels)

    def grid(self, steps: int) -> torch.Tensor:
        return torch.cat([self.ladder(steps), torch.zeros(1, dtype=torch.float64)])


@dataclass(frozen=True, eq=False)
class Linear(Process):
    """The linear interpolant of flow matching / rectified flow: x_t = (1 − t) x_0 + t ε (Lipman et al. 2023;
    Liu et al. 2023). Its velocity dx/dt = ε − x_0. t_max as for ``CosineVP`` (α = 0 at t = 1)."""

    time_scale: float = 1000.0
    t_max: float = 1.0

    def __post_init__(self):
        _check_scale_and_start(self)

    def alpha_sigma(self, t):
        t = self.times(t)
        return 1 - t, t

    def d_alpha_sigma(self, t):
        t = self.times(t)
        return -torch.ones_like(t), torch.ones_like(t)

    def net_time(self, t):
        return t * self.time_scale
