"""Noise schedules β_1..β_T and everything derived from them.

Indexing follows the lecture: t = 1..T are the noisy steps, and every array here has length T + 1 with
entry 0 standing for the clean data (β_0 = 0, ᾱ_0 = 1). So ``s.alpha_bars[t]`` is ᾱ_t exactly as written on
the slides, with

    α_t = 1 − β_t,    ᾱ_t = ∏_{s=1}^{t} α_s        (the slides once write the product up to T: it is t)

All quantities are computed in float64; ``Schedule.at`` hands them out in the caller's dtype and device.
References: Ho et al. 2020 (linear), Nichol & Dhariwal 2021 (cosine), Jabri et al. 2022 / Chen 2023
(sigmoid).
"""
from __future__ import annotations

import functools
import inspect
import math
from dataclasses import dataclass, field

import torch

from ._checks import check_int, check_real

MAX_BETA = 0.999  # Nichol & Dhariwal clip β at 0.999 so that the last steps stay invertible


@dataclass(frozen=True)
class Schedule:
    """A discrete variance-preserving (VP) noise schedule. Build one with the functions below."""

    betas: torch.Tensor  # (T+1,) float64, betas[0] = 0
    name: str = "custom"
    params: dict = field(default_factory=dict)  # the named builder's non-default arguments (besides T)

    def __post_init__(self):
        b = self.betas
        if not torch.is_tensor(b) or b.ndim != 1 or b.numel() < 2:
            raise ValueError("betas must be a 1-D tensor of length T + 1 >= 2 (entry 0 is β_0 = 0)")
        if b.dtype != torch.float64:
            object.__setattr__(self, "betas", b.to(torch.float64))
        b = self.betas
        if b[0] != 0:
            raise ValueError(f"betas[0] stands for t = 0 and must be 0, got {float(b[0])}")
        inner = b[1:]
        if not torch.isfinite(inner).all() or (inner <= 0).any() or (inner >= 1).any():
            bad = inner[~(torch.isfinite(inner) & (inner > 0) & (inner < 1))][0].item()
            raise ValueError(f"every β_t (t = 1..T) must be in (0, 1), got {bad}")

    # --- the lecture's symbols -------------------------------------------------------------------
    @property
    def T(self) -> int:
        return self.betas.numel() - 1

    @property
    def alphas(self) -> torch.Tensor:  # α_t = 1 − β_t
        return 1.0 - self.betas

    @property
    def alpha_bars(self) -> torch.Tensor:  # ᾱ_t = ∏_{s ≤ t} α_s, ᾱ_0 = 1
        return torch.cumprod(self.alphas, dim=0)

    @property
    def posterior_variances(self) -> torch.Tensor:
        """β̃_t = (1 − ᾱ_{t−1}) / (1 − ᾱ_t) · β_t, the variance of q(x_{t−1} | x_t, x_0); β̃_0 = 0."""
        ab = self.alpha_bars
        out = torch.zeros_like(ab)
        out[1:] = (1.0 - ab[:-1]) / (1.0 - ab[1:]) * self.betas[1:]
        return out

    @property
    def snr(self) -> torch.Tensor:
        """Signal-to-noise ratio ᾱ_t / (1 − ᾱ_t) (infinite at t = 0)."""
        ab = self.alpha_bars
        return ab / (1.0 - ab)

    @property
    def log_snr(self) -> torch.Tensor:
        ab = self.alpha_bars
        return torch.log(ab) - torch.log1p(-ab)

    @property
    def sigmas(self) -> torch.Tensor:
        """The variance-exploding view σ_t = sqrt((1 − ᾱ_t) / ᾱ_t): x_t / sqrt(ᾱ_t) = x_0 + σ_t ε."""
        ab = self.alpha_bars
        return torch.sqrt((1.0 - ab) / ab)

    # --- handing values to tensors ---------------------------------------------------------------
    def at(self, values: torch.Tensor, t, like: torch.Tensor) -> torch.Tensor:
        """``values[t]`` in ``like``'s dtype and device, shaped to broadcast against ``like``.

        ``t`` is an int or an integer tensor of shape (B,) (one timestep per sample); the result then has
        shape (B, 1, ..., 1) with as many dimensions as ``like``.
        """
        if isinstance(t, int) and not isinstance(t, bool):
            check_int("t", t, low=0, high=self.T)
            return values[t].to(dtype=like.dtype, device=like.device)
        if not torch.is_tensor(t) or t.dtype.is_floating_point or t.ndim != 1:
            raise ValueError("t must be an int or an integer tensor of shape (batch,)")
        if like.ndim == 0 or t.shape[0] != like.shape[0]:
            raise ValueError(f"t has {t.shape[0]} entries but the tensor has shape {tuple(like.shape)}")
        if t.numel() and (t.min() < 0 or t.max() > self.T):
            raise ValueError(f"t must be in [0, {self.T}], got values in [{int(t.min())}, {int(t.max())}]")
        out = values.to(like.device)[t.to(like.device)].to(like.dtype)
        return out.reshape(-1, *([1] * (like.ndim - 1)))

    def __repr__(self) -> str:
        return (f"Schedule({self.name}, T={self.T}, β_1={self.betas[1]:.2e}, β_T={self.betas[-1]:.2e}, "
                f"ᾱ_T={self.alpha_bars[-1]:.2e})")


def _named(builder):
    """Record the builder's name and its non-default arguments, so a schedule can be rebuilt from them."""
    sig = inspect.signature(builder)

    @functools.wraps(builder)
    def build(*args, **kwargs):
        bound = sig.bind(*args, **kwargs)
        params = {k: v for k, v in bound.arguments.items() if k != "T" and v != sig.parameters[k].default}
        s = builder(*args, **kwargs)
        return Schedule(s.betas, builder.__name__, params)

    return build


def from_betas(betas, name: str = "custom") -> Schedule:
    """A schedule from β_1..β_T (length T, without the leading β_0)."""
    if isinstance(betas, str):
        raise ValueError(f"betas must be a sequence of numbers in (0, 1), got the string {betas!r}")
    b = torch.as_tensor(betas, dtype=torch.float64).flatten()
    if b.numel() < 1:
        raise ValueError("betas must hold at least one value (T >= 1)")
    return Schedule(torch.cat([b.new_zeros(1), b]), name)


def from_alpha_bars(alpha_bars, name: str = "custom", max_beta: float = MAX_BETA) -> Schedule:
    """A schedule from ᾱ_1..ᾱ_T, which must decrease strictly inside (0, 1); β_t = 1 − ᾱ_t/ᾱ_{t−1}."""
    ab = torch.as_tensor(alpha_bars, dtype=torch.float64).flatten()
    if ab.numel() < 1 or not torch.isfinite(ab).all():
        raise ValueError("alpha_bars must hold at least one finite value")
    if (ab <= 0).any() or (ab >= 1).any():
        raise ValueError("every ᾱ_t must be in (0, 1)")
    full = torch.cat([ab.new_ones(1), ab])
    if (full[1:] >= full[:-1]).any():
        t = int(torch.nonzero(full[1:] >= full[:-1])[0]) + 1
        raise ValueError(f"alpha_bars must be strictly decreasing (ᾱ_0 = 1 > ᾱ_1 > ...), fails at t = {t}")
    betas = (1.0 - full[1:] / full[:-1]).clamp(max=max_beta)
    return from_betas(betas, name)


@_named
def linear(T: int = 1000, beta_start: float | None = None, beta_end: float | None = None) -> Schedule:
    """Ho et al. 2020: β rises linearly from 1e-4 to 0.02 over T = 1000 steps.

    For another T the default end points are scaled by 1000/T (Nichol & Dhariwal's rescaling), so that
    the total noise Σβ_t, and hence ᾱ_T ≈ 4e-5, stays about the same; β is clipped at 0.999.
    """
    T = check_int("T", T, low=1)
    scale = 1000.0 / T
    open_unit = dict(low=0, high=1, low_open=True, high_open=True)
    b0 = min(1e-4 * scale, MAX_BETA) if beta_start is None else check_real("beta_start", beta_start, **open_unit)
    b1 = min(0.02 * scale, MAX_BETA) if beta_end is None else check_real("beta_end", beta_end, **open_unit)
    return from_betas(torch.linspace(b0, b1, T, dtype=torch.float64), "linear")


@_named
def cosine(T: int = 1000, s: float = 0.008, max_beta: float = MAX_BETA) -> Schedule:
    """Nichol & Dhariwal 2021: ᾱ(t) = f(t)/f(0), f(t) = cos²((t/T + s)/(1 + s) · π/2), β clipped at 0.999."""
    T = check_int("T", T, low=1)
    s = check_real("s", s, low=0)
    max_beta = check_real("max_beta", max_beta, low=0, high=1, low_open=True, high_open=True)
    t = torch.arange(T + 1, dtype=torch.float64)
    f = torch.cos((t / T + s) / (1 + s) * math.pi / 2) ** 2
    betas = (1.0 - f[1:] / f[:-1]).clamp(max=max_beta)
    return from_betas(betas, "cosine")


@_named
def sigmoid(T: int = 1000, start: float = -3.0, end: float = 3.0, tau: float = 1.0,
            max_beta: float = MAX_BETA) -> Schedule:
    """Sigmoid schedule (Jabri et al. 2022; Chen 2023, "On the importance of noise scheduling").

    ᾱ(t) = (σ(end/τ) − σ((start + (end − start)·t/T)/τ)) / (σ(end/τ) − σ(start/τ)), σ the logistic function.
    """
    T = check_int("T", T, low=1)
    start, end = check_real("start", start), check_real("end", end)
    if not start < end:
        raise ValueError(f"start must be < end, got start={start}, end={end}")
    tau = check_real("tau", tau, low=0, low_open=True)
    t = torch.arange(T + 1, dtype=torch.float64) / T
    sig = torch.sigmoid
    v_start = sig(torch.tensor(start / tau, dtype=torch.float64))
    v_end = sig(torch.tensor(end / tau, dtype=torch.float64))
    f = (v_end - sig((start + (end - start) * t) / tau)) / (v_end - v_start)
    betas = (1.0 - f[1:] / f[:-1]).clamp(min=1e-12, max=max_beta)
    return from_betas(betas, "sigmoid")


SCHEDULES = {"linear": linear, "cosine": cosine, "sigmoid": sigmoid}


def make(name: str, T: int = 1000, **kwargs) -> Schedule:
    """``make("cosine", T=500)``: a schedule by name (linear, cosine, sigmoid)."""
    if name not in SCHEDULES:
        raise ValueError(f"schedule name must be one of {sorted(SCHEDULES)}, got {name!r}")
    return SCHEDULES[name](T, **kwargs)
