"""An MLP denoiser for 2-D points: ε_θ(x_t, t) with the timestep embedding added in every layer."""
from __future__ import annotations

import torch
from torch import nn

from .embedding import TimeEmbedding
from ._inputs import check_inputs
from .registry import register


@register
class MLPDenoiser(nn.Module):
    def __init__(self, dim: int = 2, hidden: int = 128, depth: int = 3, emb_dim: int = 32):
        super().__init__()
        self.config = dict(dim=dim, hidden=hidden, depth=depth, emb_dim=emb_dim)
        self.time = TimeEmbedding(emb_dim)
        self.inp = nn.Linear(dim, hidden)
        self.layers = nn.ModuleList(nn.Linear(hidden, hidden) for _ in range(depth))
        self.time_proj = nn.ModuleList(nn.Linear(self.time.out_dim, hidden) for _ in range(depth))
        self.out = nn.Linear(hidden, dim)
        self.act = nn.SiLU()

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        # x: (B, dim), t: (B,) → (B, dim)
        check_inputs(self, x, t, (self.config["dim"],))
        emb = self.act(self.time(t))                      # (B, 4·emb_dim)
        h = self.inp(x)                                   # (B, hidden)
        for layer, proj in zip(self.layers, self.time_proj):
            h = h + layer(self.act(h + proj(emb)))        # residual, time added before each layer
        return self.out(self.act(h))
