"""What the three families share: a plain MLP, the standard normal's log-density and their argument checks."""
from __future__ import annotations

import math

import torch
from torch import nn

from .._checks import check_batched, check_generator, check_int, check_real


def check_sizes(**sizes) -> dict:
    """A family's sizes, each a positive int (``depth``, the number of hidden layers, may be 0: a linear map)."""
    return {k: check_int(k, v, low=0 if k == "depth" else 1) for k, v in sizes.items()}


def check_points(name: str, x, dim: int) -> torch.Tensor:
    """A batch of points (B, dim), floating point and finite."""
    check_batched(name, x)
    if x.ndim != 2 or x.shape[1] != dim:
        raise ValueError(f"{name} must have shape (batch, {dim}), got {tuple(x.shape)}")
    return x


def check_draw(n, generator) -> int:
    """``sample``'s arguments: n >= 1 points, and a torch.Generator or None."""
    check_generator("generator", generator)
    return check_int("n", n, low=1)


def mlp(inp: int, out: int, hidden: int = 128, depth: int = 3) -> nn.Sequential:
    """inp → hidden → … → out, ``depth`` hidden layers with SiLU between."""
    layers, width = [], inp
    for _ in range(depth):
        layers += [nn.Linear(width, hidden), nn.SiLU()]
        width = hidden
    return nn.Sequential(*layers, nn.Linear(width, out))


def standard_normal(z: torch.Tensor) -> torch.Tensor:
    """log N(z; 0, I) summed over the last dimension."""
    return -0.5 * (z**2).sum(-1) - 0.5 * z.shape[-1] * math.log(2 * math.pi)

