"""What every forward process shares: x_t = α_t x_0 + σ_t ε with its own time, the forward SDE it is the marginal
of, the time a network sees, and a draw of training times. The kinds are in ``discrete`` and ``continuous``."""
from __future__ import annotations

import math
from dataclasses import asdict

import torch

from .._checks import check_batched, check_generator, check_int
from .._random import randint, randn, uniform


class Process:
    """The interface every process implements (continuous ones add ``d_alpha_sigma``)."""

    discrete = False
    t_clean = 0.0          # the time of the data
    t_max = 1.0            # where sampling starts
    t_domain = 1.0         # the largest time at which α_t, σ_t are defined (the continuous kinds run on [0, 1])

    def times(self, t) -> torch.Tensor:
        """t as a float64 tensor, checked: finite and inside [0, t_domain]. Every α_t, σ_t (so every conversion,
        loss and sampler step) goes through it: a time outside the process has no α_t, σ_t to give."""
        try:
            t = torch.as_tensor(t, dtype=torch.float64)
        except (TypeError, ValueError, RuntimeError):
            raise TypeError(f"t must be a number or a tensor of times, got {type(t).__name__} {t!r}") from None
        self._check_range(t)
        return t

    def _check_range(self, t: torch.Tensor, name: str = "t") -> None:
        if t.numel() == 0:
            return
        lo, hi = float(t.min()), float(t.max())
        if not (math.isfinite(lo) and math.isfinite(hi) and torch.isfinite(t).all()):
            raise ValueError(f"{name} must be finite, got {t.tolist() if t.numel() < 9 else 'values with NaN or inf'}")
        if lo < 0 or hi > self.t_domain * (1 + 1e-12):
            raise ValueError(f"{name} must lie in [0, {self.t_domain:g}] for {type(self).__name__} (0 is the data), "
                             f"got values in [{lo:g}, {hi:g}]")

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
        check_generator("generator", generator)
        _, s = self.alpha_sigma(self.t_max)
        return float(s) * torch.randn(shape, generator=generator, dtype=dtype)

    def q_sample(self, x0: torch.Tensor, t, noise: torch.Tensor) -> torch.Tensor:
        """x_t = α_t x_0 + σ_t ε, a draw from q(x_t | x_0) (t a number or a (B,) tensor)."""
        a, s = (column(v, x0) for v in self.alpha_sigma(t))
        return a * x0 + s * noise

    def sample_t(self, batch: int, like: torch.Tensor, generator=None) -> torch.Tensor:
        """Training times, one per sample: uniform on the steps {1, …, T} (discrete) or on (t_clean, t_max]."""
        if self.discrete:
            return randint(1, self.T + 1, (batch,), like, generator)
        return self.t_max - uniform((batch,), like, generator) * (self.t_max - self.t_clean)

    def simulate(self, x0: torch.Tensor, steps: int, generator=None):
        """Euler–Maruyama on the forward SDE dx = f x dt + g dw from t = 0 to 1: the times and the path
        (steps + 1, B, …), whose marginals approach q(x_t | x_0) as the steps shrink (Song et al. 2021)."""
        steps = check_int("steps", steps, low=1)
        check_batched("x0", x0)
        ts = torch.linspace(0.0, 1.0, steps + 1, dtype=torch.float64)
        x, path = x0.clone(), [x0.clone()]
        for t0, t1 in zip(ts[:-1], ts[1:]):
            dt = float(t1 - t0)
            x = x + self.drift(x, t0) * dt + float(self.diffusion(t0)) * math.sqrt(dt) * randn(x.shape, x, generator)
            path.append(x.clone())
        return ts, torch.stack(path)

    def net_time(self, t: torch.Tensor) -> torch.Tensor:
        """What the network receives as its time input."""
        return t

    def time_tensor(self, t, batch: int, device, name: str = "t") -> torch.Tensor:
        """t as a (batch,) tensor of the right dtype (int64 for discrete steps); ``name``: the caller's argument,
        named in the errors."""
        dtype = torch.long if self.discrete else torch.float64
        if not torch.is_tensor(t):  # a Python float straight to float64 (not through float32)
            try:
                t = torch.tensor(t, dtype=torch.float64 if isinstance(t, float) else None)
            except (TypeError, ValueError, RuntimeError):
                raise TypeError(f"{name} must be a number or a tensor of times, got {type(t).__name__} {t!r}") from None
        t = t.to(device)
        if t.dtype == torch.bool or not (t.is_floating_point() or t.dtype in (torch.int64, torch.int32, torch.int16,
                                                                               torch.int8, torch.uint8)):
            raise TypeError(f"{name} must hold numbers (times or steps), got a {t.dtype} tensor")
        if self.discrete and t.is_floating_point():
            if not torch.equal(t, t.round()):
                raise ValueError(f"{name} must be an integer step for {type(self).__name__}, got {t.tolist()}")
        if t.ndim > 1 or t.ndim == 1 and t.shape[0] != batch:
            raise ValueError(f"{name} must be one time or one per sample, shape ({batch},), got shape "
                             f"{tuple(t.shape)}")
        self._check_range(t, name)
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
