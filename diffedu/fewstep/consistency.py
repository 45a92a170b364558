"""Consistency models — Song, Dhariwal, Chen & Sutskever 2023 ("Consistency Models", ICML).

A consistency function maps every point of a probability-flow ODE trajectory to the trajectory's start
near the data: f(x_t, t) = x_{t_min} for all t ∈ [t_min, T]. It is parameterised so that the boundary
condition f(x, t_min) = x holds for ANY network F_θ (the paper's eq. (3) and appendix C):

    f_θ(x, t) = c_skip(t) x + c_out(t) F_θ(c_in(t) x, t)
    c_skip(t) = σ_d² / ((σ̄_t − σ̄_min)² + σ_d²),   c_out(t) = σ_d (σ̄_t − σ̄_min) / √(σ_d² + σ̄_t²)

where σ̄_t = σ_t/α_t is the process's noise level on the data's scale (x_t/α_t = x_0 + σ̄_t ε). For the
``VE`` process t IS σ and these are exactly the paper's c_skip, c_out with ε = t_min. At t = t_min the
difference σ̄_t − σ̄_min is exactly 0, so c_skip = 1 and c_out = 0 in floating point, not just in the
limit. c_in(t) = 1/√(α_t² σ_d² + σ_t²) scales the input to unit variance (Karras et al. 2022).

Distilling from a teacher, F can start as the teacher itself (as latent consistency models start from theirs,
Luo et al. 2023): give a diffedu ``Model`` as ``net`` and f_θ(x, t) = c_skip(t) x + (1 − c_skip(t)) x̂_0^θ(x, t),
where x̂_0^θ is that model's own x_0 estimate (its process and parameterisation, no c_in). c_out = 1 − c_skip is
this library's choice; the boundary condition holds as before, and where c_skip ≈ 0 (t ≳ 0.3 on ``Linear`` with
σ_d = 0.1) the student starts as the teacher's one-step x̂_0. ``sigma_data`` sets how fast the skip fades.

f is an estimate of x_0, so a ``ConsistencyModel`` is a diffedu ``Model`` with prediction "x0": DDIM or the
PF-ODE samplers take it too, and ``samplers.consistency_sample`` runs the paper's multistep sampler (Algorithm 1).

Consistency distillation (Algorithm 2): from x_{t_{n+1}} = α x_0 + σ ε, one step of an ODE solver Φ with the
teacher gives x̂_{t_n}; the student f_θ at (x_{t_{n+1}}, t_{n+1}) is pulled towards the EMA target
f_{θ⁻}(x̂_{t_n}, t_n) (no gradient), and θ⁻ ← μ θ⁻ + (1 − μ) θ (``ema_update``).
"""
from __future__ import annotations

import math

import torch

from .. import checkpoint
from .._checks import check_batched, check_real
from .._random import randint, randn
from ..model import DiffusionModel, Model, conditioned, network
from ..processes import Process, column
from ..samplers import check_model, ddim_model_step, grid_of, heun_step

DISTANCES = ("l2", "l1", "pseudo-huber")
SOLVERS = ("euler", "heun", "ddim")


@checkpoint.register_kind("consistency", "t_min", "sigma_data")
class ConsistencyModel(Model):
    """f_θ(x, t) = c_skip(t) x + c_out(t) F_θ(c_in(t) x, t), with f(x, t_min) = x exactly (module docstring).

    net:         F_θ, called as ``net(c_in x, process.net_time(t))`` (or with labels, as ``DiffusionModel``);
                 or a diffedu ``Model`` on the same process, whose x̂_0 is used (module docstring).
    process:     a continuous ``diffedu.processes`` process; t in its units (σ for ``VE``).
    t_min:       the boundary time ε of the paper (0.002 for VE on data in [−1, 1]); 0 < t_min < t_max.
    sigma_data:  σ_d, the data's standard deviation (0.5 in the paper).
    num_classes: for a class-conditional F_θ, as in ``DiffusionModel`` (then ``given(y)`` works).
    """

    prediction = "x0"

    def __init__(self, net, process: Process, t_min: float, sigma_data: float = 0.5,
                 num_classes: int | None = None, meta: dict | None = None):
        if not isinstance(process, Process) or process.discrete:
            raise ValueError("process must be a continuous diffedu.processes process (VE, VPSDE, CosineVP, Linear, "
                             f"VESDE), got {type(process).__name__}")
        self.t_min = check_real("t_min", t_min, low=0, high=float(process.t_max), low_open=True, high_open=True)
        self.sigma_data = check_real("sigma_data", sigma_data, low=0, low_open=True)
        if isinstance(net, Model) and net.process != process:
            raise ValueError(f"net is a model on {net.process.spec()}, not on the consistency model's {process.spec()}")
        self.net, self.process, self.num_classes, self.meta = net, process, num_classes, dict(meta or {})

    def noise_level(self, t) -> torch.Tensor:
        """σ̄_t = σ_t / α_t (float64)."""
        a, s = self.process.alpha_sigma(t)
        return s / a

    def coefficients(self, t):
        """(c_skip, c_out, c_in) at the times t, float64.

        Computed with numerator and denominator multiplied by α_t (the same values where α_t > 0), so that
        they stay finite where α_t = 0 (t = 1 of ``CosineVP`` and ``Linear``): c_skip = 0, c_out = σ_d there.
        """
        t = self.process.times(t)
        a, s = self.process.alpha_sigma(t)
        a2sd2 = a**2 * self.sigma_data**2
        # α_t (σ̄_t − σ̄_min), set to exactly 0 at t = t_min whatever the rounding: c_skip = 1, c_out = 0 there
        d = torch.where(t == self.t_min, 0.0, s - a * self.noise_level(torch.full_like(t, self.t_min)))
        c_in = 1 / torch.sqrt(a2sd2 + s**2)
        return a2sd2 / (d**2 + a2sd2), self.sigma_data * d * c_in, c_in

    def output(self, x, t, labels=None):
        t = self.process.time_tensor(t, x.shape[0], x.device)
        if (t < self.t_min).any():
            raise ValueError(f"t must be >= t_min = {self.t_min}: a consistency function is defined on [t_min, "
                             f"t_max] (f(x, t_min) = x), got {float(t.min()):g}")
        c_skip, c_out, c_in = (column(c, x) for c in self.coefficients(t))
        if isinstance(self.net, Model):       # F is a diffusion model's x̂_0: f = c_skip x + (1 − c_skip) x̂_0
            inner = self.net if labels is None else self.net.given(labels)
            return c_skip * x + (1 - c_skip) * inner.x0(x, t)
        p = next(self.net.parameters(), None) if isinstance(self.net, torch.nn.Module) else None
        xin = (c_in * x) if p is None else (c_in * x).to(p.dtype)
        tin = self.process.net_time(t)
        out = self.net(xin, tin) if labels is None else self.net(xin, tin, labels)
        return c_skip * x + c_out * out.to(x.dtype)

    def __call__(self, x, t):
        """f_θ(x, t)."""
        return self.output(x, t)

    def to(self, device=None, dtype=None) -> "ConsistencyModel":
        self.net.to(device=device, dtype=dtype)
        return self

    def checkpoint_part(self):
        """What a checkpoint keeps of f_θ (``checkpoint.register_kind``): its two numbers, and F's diffusion model."""
        if type(self.net) is not DiffusionModel:  # (a latent model's autoencoder would be lost on load)
            raise ValueError("only a ConsistencyModel around a DiffusionModel (F = its x̂_0) can be saved")
        return {"t_min": self.t_min, "sigma_data": self.sigma_data}, {}, self.net

    @classmethod
    def from_checkpoint(cls, part: dict, inner: DiffusionModel, tensors: dict, build) -> "ConsistencyModel":
        return cls(inner, inner.process, part["t_min"], part["sigma_data"], inner.num_classes, inner.meta)

    def __repr__(self):
        return (f"ConsistencyModel({type(self.net).__name__}, t_min={self.t_min}, sigma_data={self.sigma_data}, "
                f"process {self.process.spec()})")


@torch.no_grad()
def ema_update(target, online, mu: float) -> None:
    """θ⁻ ← μ θ⁻ + (1 − μ) θ, in place on ``target`` (modules, or models carrying ``.net``); buffers are copied.

    mu in [0, 1): μ = 0 copies the online weights (consistency training with μ = 0, Song & Dhariwal 2023).
    """
    mu = check_real("mu", mu, low=0, high=1, high_open=True)
    nets = {}
    for name, m in (("target", target), ("online", online)):
        try:
            nets[name] = network(m)
        except ValueError:
            raise TypeError(f"{name} must be a network or a model carrying one (.net), got {type(m).__name__}") from None
    tgt, onl = list(nets["target"].parameters()), list(nets["online"].parameters())
    if len(tgt) != len(onl) or any(a.shape != b.shape for a, b in zip(tgt, onl)):
        raise ValueError("target and online must be the same architecture (their parameters differ in shape)")
    for a, b in zip(tgt, onl):
        a.lerp_(b.detach(), 1 - mu)
    for a, b in zip(nets["target"].buffers(), nets["online"].buffers()):
        a.copy_(b)


def ode_step(teacher: Model, x: torch.Tensor, t: torch.Tensor, s: torch.Tensor, solver: str = "euler"):
    """One step Φ of the teacher's PF-ODE from t to s (per-sample (B,) times).

    "euler":  x + (s − t) v(x, t), v = ``teacher.velocity`` (for VE: Song et al.'s x − (s − t) t ∇log p).
    "heun":   the trapezoidal corrector on the Euler point (Karras et al. 2022), two evaluations.
    "ddim":   α_s x̂_0 + σ_s ε̂ — DDIM with η = 0, the exact Euler step of the ODE in (x/α, σ/α) variables.
    """
    if solver not in SOLVERS:
        raise ValueError(f"solver must be one of {SOLVERS}, got {solver!r}")
    process = check_model(teacher)
    if not torch.is_tensor(x):
        raise ValueError(f"x must be a tensor of shape (batch, ...), got {type(x).__name__}")
    for name, v in (("t", t), ("s", s)):
        process.time_tensor(v, x.shape[0], x.device, name=name)
    if solver == "ddim":
        return ddim_model_step(teacher, x, t, s)
    h = column(s - t, x)
    d = teacher.velocity(x, t)
    return x + h * d if solver == "euler" else heun_step(teacher.velocity, x, t, s, h, d)


def _distance(a: torch.Tensor, b: torch.Tensor, distance: str) -> torch.Tensor:
    diff = (a - b).flatten(1)
    if distance == "l2":
        return (diff**2).mean(1)
    if distance == "l1":
        return diff.abs().mean(1)
    c = 0.00054 * math.sqrt(diff.shape[1])  # Song & Dhariwal 2023: c = 0.00054 √d
    return torch.sqrt((diff**2).sum(1) + c**2) - c


def consistency_distillation_loss(student: ConsistencyModel, ema_target: ConsistencyModel, teacher: Model,
                                  x0: torch.Tensor, grid, *, solver: str = "euler", generator=None,
                                  distance: str = "l2", y=None) -> torch.Tensor:
    """One Monte-Carlo estimate of the consistency-distillation loss (Song et al. 2023, Algorithm 2).

    grid: decreasing times T = t_N > … > t_1 ≥ t_min (the library's grids run towards the data: grid[0] = T),
          e.g. ``VE(0.002, 80).ladder(N)``. Each sample draws a pair (t_{n+1}, t_n) = (grid[k], grid[k + 1]).
    distance: "l2" (mean squared error), "l1", or "pseudo-huber" √(‖·‖² + c²) − c (Song & Dhariwal 2023).
    The weight λ(t_n) is 1 (the paper's choice). The target f_{θ⁻}(x̂_{t_n}, t_n) carries no gradient.
    """
    check_batched("x0", x0)
    if distance not in DISTANCES:
        raise ValueError(f"distance must be one of {DISTANCES}, got {distance!r}")
    process = check_model(teacher)
    for name, m in (("student", student), ("ema_target", ema_target)):
        if getattr(m, "process", None) != process:
            raise ValueError(f"{name} must be a model on the teacher's process {process.spec()}")
    ts = grid_of(teacher, grid)
    t_min = float(getattr(student, "t_min", process.t_clean))
    if ts[-1] < t_min:
        raise ValueError(f"grid must end at or above t_min = {t_min}, got {ts[-1]}")
    g = torch.tensor(ts, dtype=torch.float64, device=x0.device)
    k = randint(0, len(ts) - 1, (x0.shape[0],), x0, generator)
    t_hi, t_lo = g[k], g[k + 1]
    x_hi = process.q_sample(x0, t_hi, randn(x0.shape, x0, generator))
    with torch.no_grad():
        x_lo = ode_step(conditioned(teacher, y), x_hi, t_hi, t_lo, solver)
        target = conditioned(ema_target, y).x0(x_lo, t_lo)
    return _distance(conditioned(student, y).x0(x_hi, t_hi), target, distance).mean()


__all__ = ["ConsistencyModel", "ema_update", "ode_step", "consistency_distillation_loss", "DISTANCES", "SOLVERS"]
