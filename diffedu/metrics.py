"""Distances between sample sets, with the sampling-noise floor beside them.

A distance between two finite sample sets is never 0, even when both come from the same distribution.
``noise_floor`` measures it for independent true sets of the same size: a sampler is as good as we can
tell when its distance to the data is near that floor.
"""
from __future__ import annotations

import torch

from ._checks import check_batched, check_int


def sliced_wasserstein(x: torch.Tensor, y: torch.Tensor, n_projections: int = 256,
                       generator: torch.Generator | None = None) -> float:
    """Sliced 2-Wasserstein distance: sqrt of the mean over random directions of W2² of the projections.

    Sets of different sizes are compared through their quantile functions on a common grid.
    """
    check_batched("x", x)
    check_batched("y", y)
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1]:
        raise ValueError(f"x and y must be (n, d) with the same d, got {tuple(x.shape)} and {tuple(y.shape)}")
    n_projections = check_int("n_projections", n_projections, low=1)
    if generator is None:
        generator = torch.Generator().manual_seed(0)
    x, y = x.detach().cpu().double(), y.detach().cpu().double()
    dirs = torch.randn(x.shape[1], n_projections, generator=generator, dtype=torch.float64)
    dirs = dirs / dirs.norm(dim=0, keepdim=True)
    px, _ = torch.sort(x @ dirs, dim=0)
    py, _ = torch.sort(y @ dirs, dim=0)
    if px.shape[0] != py.shape[0]:
        n = max(px.shape[0], py.shape[0])
        q = (torch.arange(n, dtype=torch.float64) + 0.5) / n
        px = torch.quantile(px, q, dim=0)
        py = torch.quantile(py, q, dim=0)
    return float(((px - py) ** 2).mean().sqrt())


def noise_floor(sample_fn, n: int, repeats: int = 5, seed: int = 0, metric=sliced_wasserstein):
    """Mean and std of ``metric`` between two independent sets of n true samples.

    sample_fn(n, generator) draws n samples (e.g. ``mixture.sample``).
    """
    n = check_int("n", n, low=2)
    repeats = check_int("repeats", repeats, low=1)
    g = torch.Generator().manual_seed(seed)
    d = torch.tensor([metric(sample_fn(n, g), sample_fn(n, g)) for _ in range(repeats)])
    return float(d.mean()), float(d.std()) if repeats > 1 else 0.0


def mixture_nll(mixture, x: torch.Tensor) -> float:
    """Average negative log-likelihood (nats) of samples under an exact mixture: low = on the modes.

    It rewards collapsing onto the densest mode, so read it next to a distance, never alone.
    """
    return float(-mixture.log_prob(x.detach().cpu()).mean())
