"""Random draws that follow the generator's device, then move to the tensor's.

torch refuses to draw CUDA numbers from a CPU generator ("Expected a 'cuda' device type for generator"), and
every seeded figure in the lessons uses ``torch.Generator().manual_seed(k)``, a CPU one. Drawing on the
generator's own device and moving the result keeps a seed meaning the same numbers on a laptop and on a GPU.
Without a generator the draw happens where the tensor lives.
"""
from __future__ import annotations

import torch

from ._checks import check_generator


def _device(like: torch.Tensor, generator) -> torch.device:
    check_generator("generator", generator)
    return like.device if generator is None else generator.device


def randn(shape, like: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """N(0, I) of ``shape`` with ``like``'s dtype, on ``like``'s device."""
    return torch.randn(shape, generator=generator, dtype=like.dtype, device=_device(like, generator)).to(like.device)


def randint(low: int, high: int, shape, like: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Integers in [low, high) of ``shape`` (int64), on ``like``'s device."""
    return torch.randint(low, high, shape, generator=generator, device=_device(like, generator)).to(like.device)


def uniform(shape, like: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """U[0, 1) of ``shape`` in float64 (times and levels are computed in float64), on ``like``'s device."""
    return torch.rand(shape, generator=generator, dtype=torch.float64, device=_device(like, generator)).to(like.device)
