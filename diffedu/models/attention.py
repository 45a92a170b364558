"""Scaled dot-product attention, softmax(q kᵀ / √d) v (Vaswani et al. 2017), as the U-Net and the DiTs call it.

One wrinkle of the CPU: under bfloat16 autocast, PyTorch's CPU flash-attention kernel is no faster than in
float32 going forwards and slower going backwards (the DiT's 256 tokens × 4 heads × 32 at batch 64, one thread:
forward + backward 158 ms in bf16 against 129 ms in fp32; benchmarks/README.md, "Training in bf16"). So on a
CPU under autocast the attention itself runs in float32 and hands back the input's dtype; everything else
(the q, k, v projections, the MLPs) stays in bf16, and a GPU keeps autocast's choice.
"""
from __future__ import annotations

import torch
from torch.nn import functional as F


def dot_product_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """softmax(q kᵀ / √d) v over the last two dimensions: (…, N, d) each → (…, N, d), in q's dtype."""
    if q.device.type != "cpu" or not torch.is_autocast_enabled("cpu"):
        return F.scaled_dot_product_attention(q, k, v)
    with torch.autocast("cpu", enabled=False):
        return F.scaled_dot_product_attention(q.float(), k.float(), v.float()).to(q.dtype)
