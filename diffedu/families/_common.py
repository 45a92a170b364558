"""What the three families share: a plain MLP and the standard normal's log-density."""
from __future__ import annotations

import math

import torch
from torch import nn


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

