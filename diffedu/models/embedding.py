"""The sinusoidal timestep embedding of the lecture (Vaswani et al. 2017, used by Ho et al. 2020).

    PE(pos, 2i)   = sin(pos / 10000^(2i/d))
    PE(pos, 2i+1) = cos(pos / 10000^(2i/d))

Unique per step, smooth in pos, multi-scale (the frequencies span 1 … 1/10000) and bounded in [−1, 1].
``pos`` may be fractional, so continuous times and noise levels use the same code.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from .._checks import check_int


def timestep_embedding(t: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    """t: (B,) int or float positions → (B, dim), sin in the even columns and cos in the odd ones."""
    dim = check_int("dim", dim, low=2)
    if dim % 2:
        raise ValueError(f"dim must be even, got {dim}")
    t = torch.as_tensor(t)
    if t.ndim != 1:
        raise ValueError(f"t must have shape (batch,), got {tuple(t.shape)}")
    dtype = t.dtype if t.is_floating_point() else torch.float32
    i = torch.arange(dim // 2, device=t.device, dtype=torch.float64)
    freqs = torch.exp(-math.log(max_period) * 2 * i / dim)                # 1 / 10000^(2i/d)
    angles = t.to(torch.float64)[:, None] * freqs[None]                   # (B, dim/2)
    emb = torch.stack([torch.sin(angles), torch.cos(angles)], dim=-1)     # (B, dim/2, 2)
    return emb.reshape(t.shape[0], dim).to(dtype)


class TimeEmbedding(nn.Module):
    """Sinusoidal features followed by a small MLP, as in every DDPM network."""

    def __init__(self, dim: int, hidden: int | None = None):
        super().__init__()
        self.dim = dim
        hidden = hidden or 4 * dim
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.SiLU(), nn.Linear(hidden, hidden))
        self.out_dim = hidden

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        return self.mlp(timestep_embedding(t, self.dim).to(self.mlp[0].weight.dtype))
