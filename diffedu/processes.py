"""Forward processes: every one of the course is  x_t = α_t x_0 + σ_t ε,  ε ~ N(0, I).

What differs is what "t" is and how α_t, σ_t depend on it:

    process         t                      α_t                         σ_t                 lessons
    DiscreteVP      step 0..T (an int)     √ᾱ_t                        √(1 − ᾱ_t)          01–07 (DDPM, DDIM)
    VPSDE           time in [0, 1]         e^{−¼t²(β₁−β₀) − ½tβ₀}      √(1 − α_t²)         05 (Song et al. 2021)
    CosineVP        time in [0, 1]         cos(πt/2)                   sin(πt/2)           12 (progressive distillation)
    VESDE           time in [0, 1]         1                           σ_min (σ_max/σ_min)^t  05
    VE              t is σ itself          1                           t                   03–04, EDM, consistency models
    Linear          time in [0, 1]         1 − t                       t                   13 (flow matching)

The variance-preserving ones have α_t² + σ_t² = 1 and log-SNR λ_t = log(α_t²/σ_t²). Continuous processes
also give dα/dt and dσ/dt, which is all the SDE view needs (Kingma et al. 2021, appendix):

    f(t) = (dα/dt)/α,    g(t)² = 2σ dσ/dt − 2 f σ²      so that  dx = f x dt + g dw  has these marginals,

and the probability-flow ODE velocity is E[dα/dt x_0 + dσ/dt ε | x_t] (flow matching's target). A process is
a small frozen dataclass: ``spec()`` is the dict a checkpoint stores, ``from_spec`` rebuilds it.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import torch

from . import schedules
from ._checks import check_int, check_real
from .score import geometric_sigmas


def _f64(t) -> torch.Tensor:
    return torch.as_tensor(t, dtype=torch.float64)


class Process:
    """The interface every process implements (continuous ones add ``d_alpha_sigma``)."""

    discrete = False
    t_clean = 0.0          # the time of the data
    t_max = 1.0            # where sampling starts

    def alpha_sigma(self, t) -> tuple[torch.Tensor, torch.Tensor]:  # float64, t's shape
        raise NotImplementedError

    def d_alpha_sigma(self, t) -> tuple[torch.Tensor, torch.Tensor]:
        raise ValueError(f"{type(self).__name__} has no time derivative (its time is discrete): use a continuous "
                         "process (VPSDE, CosineVP, VE, Linear) for SDE/ODE samplers")

    def drift_diffusion(self, t) -> tuple[torch.Tensor, torch.Tensor]:
        """f(t) and g(t)² of the forward SDE dx = f x dt + g dw with this process's marginals."""
        (a, s), (da, ds) = self.alpha_sigma(t), self.d_alpha_sigma(t)
        f = da / a
        return f, 2 * s * ds - 2 * f * s**2

    def drift(self, x: torch.Tensor, t) -> torch.Tensor:
        """f(t)·x, the forward SDE's drift (for a VP SDE: −½β(t)x)."""
        return column(self.drift_diffusion(t)[0], x) * x

    def diffusion(self, t) -> torch.Tensor:
        """g(t), the forward SDE's diffusion coefficient."""
        return torch.sqrt(self.drift_diffusion(t)[1])

    def grid(self, steps: int) -> torch.Tensor:
        """``steps`` + 1 times from ``t_max`` down to ``t_clean``, evenly spaced (float64)."""
        steps = check_int("steps", steps, low=1)
        return torch.linspace(self.t_max, self.t_clean, steps + 1, dtype=torch.float64)

    def prior(self, shape, generator=None, dtype=torch.float32) -> torch.Tensor:
        """x at t_max: σ_{t_max} · N(0, I) (the data's α_{t_max} x_0 share is taken as negligible)."""
        _, s = self.alpha_sigma(self.t_max)
        return float(s) * torch.randn(shape, generator=generator, dtype=dtype)

    def sample(self, x0: torch.Tensor, t, noise: torch.Tensor) -> torch.Tensor:
        """x_t = α_t x_0 + σ_t ε (t a number or a (B,) tensor)."""
        a, s = (column(v, x0) for v in self.alpha_sigma(t))
        return a * x0 + s * noise

    def net_time(self, t: torch.Tensor) -> torch.Tensor:
        """What the network receives as its time input."""
        return t

    def time_tensor(self, t, batch: int, device) -> torch.Tensor:
        """t as a (batch,) tensor of the right dtype (int64 for discrete steps)."""
        dtype = torch.long if self.discrete else torch.float64
        if not torch.is_tensor(t):  # a Python float straight to float64 (not through float32)
            t = torch.tensor(t, dtype=torch.float64 if isinstance(t, float) else None)
        t = t.to(device)
        if self.discrete and t.is_floating_point():
            if not torch.equal(t, t.round()):
                raise ValueError(f"t must be an integer step for {type(self).__name__}, got {t.tolist()}")
        t = t.to(dtype)
        return t.expand(batch) if t.ndim == 0 else t

    def spec(self) -> dict:
        return {"kind": type(self).__name__, **asdict(self)}

    def __eq__(self, other):
        return isinstance(other, Process) and self.spec() == other.spec()

    def __hash__(self):
        return hash(repr(sorted(self.spec().items())))


def column(v: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """A per-sample (B,) or scalar coefficient, in x's dtype and device, shaped to broadcast over x."""
    v = torch.as_tensor(v).to(dtype=x.dtype, device=x.device)
    return v.reshape(-1, *([1] * (x.ndim - 1))) if v.ndim else v


@dataclass(frozen=True, eq=False)
class DiscreteVP(Process):
    """The lecture's DDPM process on steps t = 0..T of a ``schedules`` schedule: α_t = √ᾱ_t, σ_t = √(1 − ᾱ_t)."""

    schedule: str = "linear"
    T: int = 1000
    params: dict = field(default_factory=dict)
    discrete = True

    def __post_init__(self):
        check_int("T", self.T, low=1)
        object.__setattr__(self, "_sched", schedules.make(self.schedule, self.T, **self.params))

    @classmethod
    def of(cls, sched: schedules.Schedule) -> "DiscreteVP":
        """The process of an existing named schedule."""
        if sched.name not in schedules.SCHEDULES:
            raise ValueError(f"only named schedules {sorted(schedules.SCHEDULES)} can be stored, got {sched.name!r}")
        return cls(sched.name, sched.T, dict(sched.params))

    @property
    def sched(self) -> schedules.Schedule:
        return self._sched

    @property
    def t_max(self) -> int:
        return self.T

    t_clean = 0

    def alpha_sigma(self, t):
        t = torch.as_tensor(t)
        if t.is_floating_point() and not torch.equal(t, t.round()):
            raise ValueError(f"t must be an integer step in [0, {self.T}], got {t.tolist()}")
        t = t.long()
        if t.numel() and (t.min() < 0 or t.max() > self.T):
            raise ValueError(f"t must be in [0, {self.T}], got values in [{int(t.min())}, {int(t.max())}]")
        ab = self._sched.alpha_bars[t.cpu()]
        return torch.sqrt(ab).to(t.device), torch.sqrt(1 - ab).to(t.device)

    def grid(self, steps: int) -> torch.Tensor:
        """``steps`` evenly spaced steps from T down ("trailing": T, T − T/steps, …), then 0 (int64).

        Starting at T matters: a grid that never visits T starts from noise the network never saw
        (Lin et al. 2024)."""
        steps = check_int("steps", steps, low=1, high=self.T)
        return torch.linspace(self.T, 0, steps + 1, dtype=torch.float64).round().long()

    def spec(self) -> dict:
        return {"kind": "DiscreteVP", "schedule": self.schedule, "T": self.T, "params": dict(self.params)}


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

    @property
    def t_clean(self):
        return self.t_min

    def beta(self, t):
        return self.beta_min + _f64(t) * (self.beta_max - self.beta_min)

    def alpha_sigma(self, t):
        t = _f64(t)
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

    def alpha_sigma(self, t):
        u = _f64(t) * math.pi / 2
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
        t = _f64(t)
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

    @property
    def t_max(self):
        return self.sigma_max

    def alpha_sigma(self, t):
        t = _f64(t)
        return torch.ones_like(t), t

    def d_alpha_sigma(self, t):
        t = _f64(t)
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

    def alpha_sigma(self, t):
        t = _f64(t)
        return 1 - t, t

    def d_alpha_sigma(self, t):
        t = _f64(t)
        return -torch.ones_like(t), torch.ones_like(t)

    def net_time(self, t):
        return t * self.time_scale


PROCESSES = {c.__name__: c for c in (DiscreteVP, VPSDE, CosineVP, VESDE, VE, Linear)}


def from_spec(spec: dict) -> Process:
    """Rebuild a process from ``Process.spec()`` (what checkpoints store)."""
    if not isinstance(spec, dict) or spec.get("kind") not in PROCESSES:
        raise ValueError(f"process spec must be a dict with 'kind' one of {sorted(PROCESSES)}, got {spec!r}")
    return PROCESSES[spec["kind"]](**{k: v for k, v in spec.items() if k != "kind"})
