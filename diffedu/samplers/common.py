"""What every sampler shares: the grid, input checks and the callback convention.

A sampler is a plain function ``sample(model, x, grid, ..., generator=None, callback=None)`` with no hidden
state. ``model`` is a ``diffedu.model.Model`` (a trained network, an exact toy model, a guided view of
either): it carries its process, so the sampler asks it for ε̂, x̂_0, the score or the velocity at a time.

``grid`` is the decreasing sequence of times to visit, in the process's own units, ending where sampling
stops (0, the data, for DDPM/DDIM): ``model.process.grid(50)`` gives 51 evenly spaced times, and an int
``steps`` is accepted as a shorthand for that. (k-diffusion's σ grids are the same idea.)

``callback`` receives one dict per step with the same keys in every sampler:

    i        step index (0, 1, …)
    t        the time the step starts from (process units: DDPM step, continuous t, or σ for ``VE``)
    t_next   the time it arrives at
    x        the new state, at t_next
    x0_hat   the model's denoised estimate x̂_0 at t (for Langevin: Tweedie's x + σ² ∇log p, α = 1)
    nfe      network evaluations so far
    last     True on the final step

``generator`` may be a CPU ``torch.Generator`` whatever device ``x`` is on: the noise is drawn on the
generator's device and moved to x's, so one seed gives the same samples on a laptop and on a GPU.
"""
from __future__ import annotations

from numbers import Integral

import torch

from .._checks import as_number, check_batched, check_callable, check_generator, check_int, check_real
from .._random import randn
from ..processes import column

KEYS = ("i", "t", "t_next", "x", "x0_hat", "nfe", "last")   # what the callback's dict holds


def check_model(model):
    """The process of a diffedu ``Model``; a clear error for anything else (e.g. a bare network)."""
    process = getattr(model, "process", None)
    if process is None or not callable(getattr(model, "x0_eps", None)):
        raise TypeError(f"model must be a diffedu Model (a network with its process, e.g. pretrained(NAME), or "
                        f"diffedu.DiffusionModel(net, process)), got {type(model).__name__}")
    return process


def steps_of(grid) -> int | None:
    """``grid`` as a number of steps when it is one: a Python or NumPy int, or a 0-dim integer tensor (not a bool)."""
    grid = as_number(grid)
    return int(grid) if isinstance(grid, Integral) and not isinstance(grid, bool) else None


def grid_of(model, grid, *, increasing_ok: bool = False, min_len: int = 2) -> list:
    """The sampler's times as Python numbers (ints for a discrete process), checked."""
    process = check_model(model)
    if steps_of(grid) is not None:
        grid = process.grid(steps_of(grid))
    if isinstance(grid, (str, bytes, bool, set, dict)) or grid is None:
        raise ValueError(f"grid must be an int (number of steps) or a sequence of times, got {grid!r}")
    try:
        g = torch.as_tensor(grid, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError):
        raise ValueError(f"grid must be an int (number of steps) or a sequence of times, got {grid!r}") from None
    if g.ndim != 1:
        raise ValueError(f"grid must be an int (number of steps) or a flat sequence of times, got "
                         f"{'a number' if g.ndim == 0 else f'shape {tuple(g.shape)}'}: {grid!r}")
    if g.numel() < min_len:
        raise ValueError(f"grid must hold at least {min_len} time(s)" + (" (start and end)" if min_len == 2 else ""))
    if not torch.isfinite(g).all():
        raise ValueError("grid contains NaN or infinite times")
    if process.discrete:
        if not torch.equal(g, g.round()):
            raise ValueError(f"grid must hold integer steps for {type(process).__name__}, got {g.tolist()}")
        if g.min() < 0 or g.max() > process.T:
            raise ValueError(f"grid steps must lie in [0, {process.T}], got {g.tolist()}")
    elif g.min() < 0:
        raise ValueError(f"grid times must be >= 0, got {g.tolist()}")
    if not process.discrete and g.max() > process.t_max * (1 + 1e-12):
        raise ValueError(f"grid times must be <= t_max = {process.t_max} for {type(process).__name__}, got {g.max()}")
    d = g[1:] - g[:-1]
    if not ((d < 0).all() or (increasing_ok and (d > 0).all())):
        raise ValueError("grid must be strictly decreasing" + (" or increasing" if increasing_ok else ""))
    return [int(v) for v in g.tolist()] if process.discrete else g.tolist()


def alpha_sigma(model, t, x: torch.Tensor):
    """α_t, σ_t as Python floats (the grid's times are shared by the whole batch)."""
    a, s = model.process.alpha_sigma(torch.tensor(t, dtype=torch.long if isinstance(t, int) else torch.float64))
    return float(a), float(s)


def tt(model, t, x: torch.Tensor) -> torch.Tensor:
    return model.process.time_tensor(t, x.shape[0], x.device)


def checked(name: str, out: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    if out.shape != x.shape:
        raise ValueError(f"{name} returned shape {tuple(out.shape)}, expected {tuple(x.shape)}")
    if not torch.isfinite(out).all():
        raise ValueError(f"{name} returned NaN or infinite values")
    return out


def denoise(model, x: torch.Tensor, t, a_t: float, s_t: float, clip_x0: float | None):
    """(x̂_0, ε̂) at the grid time t, checked; with clip_x0, x̂_0 clamped to [−clip_x0, clip_x0] and ε̂ recomputed
    from it (ε̂ = (x − α_t x̂_0)/σ_t), so that the step stays consistent with the clamped estimate."""
    x0_hat, eps = (checked("the model", v, x) for v in model.x0_eps(x, tt(model, t, x)))
    if clip_x0 is not None:
        x0_hat = x0_hat.clamp(-clip_x0, clip_x0)
        eps = (x - a_t * x0_hat) / s_t
    return x0_hat, eps


def noise(x: torch.Tensor, generator) -> torch.Tensor:
    return randn(x.shape, x, generator)


def start(x: torch.Tensor, generator=None, callback=None, name: str = "x") -> torch.Tensor:
    """The sampler's starting state, cloned, after checking it and the sampler's ``generator`` and ``callback``."""
    check_generator("generator", generator)
    check_callable("callback", callback, "a function of one dict (see diffedu.samplers.common)", optional=True)
    check_batched(name, x)
    return x.clone()


def report(callback, i, t, t_next, x, x0_hat, nfe, last) -> None:
    if callback is not None:
        callback({"i": i, "t": t, "t_next": t_next, "x": x, "x0_hat": x0_hat, "nfe": nfe, "last": last})


def check_clip(clip_x0):
    """None (no clamp) or the clamp's bound c > 0 of x̂_0 ∈ [−c, c]."""
    return None if clip_x0 is None else check_real("clip_x0", clip_x0, low=0, low_open=True)


__all__ = ["check_model", "grid_of", "steps_of", "KEYS", "alpha_sigma", "tt", "checked", "denoise", "noise", "start", "report", "check_clip", "column"]


class Recorder:
    """A callback that keeps every ``every``-th state, and the last one, for animations and plots.

        rec = Recorder(every=25, start=x)
        ddpm_sample(model, x, callback=rec)
        rec.frames, rec.times      # lists of (B, ...) CPU tensors, and the time each one belongs to
    """

    def __init__(self, every: int = 1, key: str = "x", start: torch.Tensor | None = None):
        every = check_int("every", every, low=1)
        if key not in KEYS:
            raise ValueError(f"key must be one of the callback's keys {KEYS}, got {key!r}")
        if start is not None and not torch.is_tensor(start):
            raise ValueError(f"start must be a tensor (the sampler's x) or None, got {type(start).__name__}")
        self.every, self.key = every, key
        self.frames = [] if start is None else [start.detach().cpu().clone()]
        self.times = [] if start is None else ["start"]

    def __call__(self, info: dict) -> None:
        if info["i"] % self.every == self.every - 1 or info.get("last", False):
            self.frames.append(info[self.key].detach().cpu().clone())
            self.times.append(info["t_next"])
