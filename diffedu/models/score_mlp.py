"""A noise-conditional score network s_θ(x, σ) for 2-D data (Song & Ermon 2019), used with ``processes.VE``."""
from __future__ import annotations

import torch
from torch import nn

from .mlp import MLPDenoiser
from .registry import register


def c_noise(sigma: torch.Tensor) -> torch.Tensor:
    """Where σ enters the timestep embedding: 100·(ln σ + 5) maps σ ∈ [0.007, 150] to positions [0, 1000]."""
    return 100.0 * (torch.log(sigma) + 5.0)


@register
class ScoreMLP(nn.Module):
    """s_θ(x, σ) written as −net(x, σ)/σ: the network predicts the noise ε, so its output stays O(1) at every
    σ (Song & Ermon 2020's output scaling); this is the lecture's s = −ε/σ taken literally."""

    def __init__(self, dim: int = 2, hidden: int = 128, depth: int = 3, emb_dim: int = 32):
        super().__init__()
        self.config = dict(dim=dim, hidden=hidden, depth=depth, emb_dim=emb_dim)
        self.net = MLPDenoiser(dim, hidden, depth, emb_dim)

    def forward(self, x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:  # x: (B, dim), σ: number or (B,)
        s = torch.as_tensor(sigma, dtype=x.dtype, device=x.device)
        s = s.expand(x.shape[0]) if s.ndim == 0 else s
        if s.shape != (x.shape[0],) or not torch.isfinite(s).all() or (s <= 0).any():
            raise ValueError(f"sigma must be finite and > 0, a number or a tensor of shape ({x.shape[0]},)")
        return -self.net(x, c_noise(s)) / s.reshape(-1, *([1] * (x.ndim - 1)))
