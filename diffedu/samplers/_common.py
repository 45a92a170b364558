"""What every sampler shares: timestep tensors, input checks and the callback convention.

A sampler is a plain function ``sample(eps_fn, x, sched_or_sigmas, ..., generator=None, callback=None)``
with no hidden state: the timesteps it visits are an argument, and ``callback`` receives a dict for every
step, ``{"i": step index, "t": current time, "t_next": next time, "x": new state, "x0_hat": denoised
estimate, "last": True on the final step, ...}``, which is what the animations record.

``eps_fn(x, t)`` is any callable returning ε̂ with x's shape, where ``t`` is a tensor of shape (B,):
a trained network, the exact ε of a toy mixture, or a guided combination of either.

``generator`` may be a CPU ``torch.Generator`` whatever device ``x`` is on: the noise is drawn on the
generator's device and moved to x's, so one seed gives the same samples on a laptop and on a GPU.
"""
from __future__ import annotations

from typing import Callable

import torch

from .._checks import check_batched
from .._random import randn

EpsFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def timestep_tensor(t, x: torch.Tensor, dtype=torch.long) -> torch.Tensor:
    return torch.full((x.shape[0],), t, dtype=dtype, device=x.device)


def check_prediction(name: str, out: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    if out.shape != x.shape:
        raise ValueError(f"{name} returned shape {tuple(out.shape)}, expected {tuple(x.shape)}")
    if not torch.isfinite(out).all():
        raise ValueError(f"{name} returned NaN or infinite values")
    return out


def noise(x: torch.Tensor, generator) -> torch.Tensor:
    return randn(x.shape, x, generator)


def start(x: torch.Tensor) -> torch.Tensor:
    check_batched("x", x)
    return x.clone()


class Recorder:
    """A callback that keeps every ``every``-th state, and the last one, for animations and plots.

        rec = Recorder(every=25, start=x)
        ddpm_sample(eps_fn, x, sched, callback=rec)
        rec.frames, rec.times      # lists of (B, ...) CPU tensors, and the time each one belongs to
    """

    def __init__(self, every: int = 1, key: str = "x", start: torch.Tensor | None = None):
        if every < 1:
            raise ValueError(f"every must be >= 1, got {every}")
        self.every, self.key = every, key
        self.frames = [] if start is None else [start.detach().cpu().clone()]
        self.times = [] if start is None else ["start"]

    def __call__(self, info: dict) -> None:
        if info["i"] % self.every == self.every - 1 or info.get("last", False):
            self.frames.append(info[self.key].detach().cpu().clone())
            self.times.append(info.get("t_next"))
