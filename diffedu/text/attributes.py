"""What a digit looks like, measured on its pixels: stroke thickness and slant (lesson 10's captions).

Both are computed from the ink, the pixels brighter than mid-grey (x > 0 for images in [−1, 1]):

    thickness = 2 · area / perimeter      a stroke of width w and length L ≫ w has area ≈ wL and a boundary
                                          of ≈ 2L unit edges, so this is ≈ w, in pixels
    slant     = cov(column, height) / var(height)   over the ink pixels (height = −row, upwards): the
                                          horizontal shift per pixel of height. > 0: the top leans right

Size is *not* an attribute: MNIST's digits were normalised to fit a 20×20 box (LeCun et al. 1998), so most
digits are 20 px tall (the ink spans exactly 20 rows in 87 % of the training set). All functions take
(B, 1, 28, 28) or (B, 28, 28) images.
"""
from __future__ import annotations

import torch


def _ink(x: torch.Tensor) -> torch.Tensor:
    if not torch.is_tensor(x) or x.ndim not in (3, 4) or x.shape[-2:] != (28, 28) or (x.ndim == 4 and x.shape[1] != 1):
        got = tuple(x.shape) if torch.is_tensor(x) else type(x).__name__
        raise ValueError(f"x must be digits of shape (B, 1, 28, 28) or (B, 28, 28), got {got}")
    if x.is_floating_point() and not torch.isfinite(x).all():
        raise ValueError("x contains NaN or infinite values: no ink can be measured on them")
    return (x.reshape(x.shape[0], 28, 28) > 0).double()


def thickness(x: torch.Tensor) -> torch.Tensor:
    """2 · ink area / ink perimeter (4-neighbour edges between ink and paper, the image border counting as
    paper), in pixels: ≈ the stroke width. (B,), float64; 0 for an empty image."""
    ink = torch.nn.functional.pad(_ink(x), (1, 1, 1, 1))
    edges = (ink[:, 1:, :] != ink[:, :-1, :]).sum((1, 2)) + (ink[:, :, 1:] != ink[:, :, :-1]).sum((1, 2))
    return torch.where(edges > 0, 2 * ink.sum((1, 2)) / edges.clamp(min=1), torch.zeros_like(edges, dtype=torch.float64))


def slant(x: torch.Tensor) -> torch.Tensor:
    """cov(column, height) / var(height) over the ink pixels: > 0 leans right (top to the right), < 0 left.
    (B,), float64; 0 for an image with fewer than two ink rows."""
    ink = _ink(x)
    rows, cols = torch.meshgrid(torch.arange(28, dtype=torch.float64), torch.arange(28, dtype=torch.float64),
                                indexing="ij")
    h = -rows
    n = ink.sum((1, 2)).clamp(min=1)
    mh, mc = (ink * h).sum((1, 2)) / n, (ink * cols).sum((1, 2)) / n
    var_h = (ink * (h - mh[:, None, None]) ** 2).sum((1, 2)) / n
    cov = (ink * (h - mh[:, None, None]) * (cols - mc[:, None, None])).sum((1, 2)) / n
    return torch.where(var_h > 1e-9, cov / var_h.clamp(min=1e-9), torch.zeros_like(cov))
