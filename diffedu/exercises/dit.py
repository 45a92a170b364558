"""Checkers for lesson 08: a DiT's patchify and unpatchify, and the adaLN modulation of its blocks."""
from __future__ import annotations

import torch
from torch.nn import functional as F

from ..models.dit import patchify, unpatchify
from ._check import run_check


def _images():
    g = torch.Generator().manual_seed(8)
    # non-square images with 3 channels first: every planted mistake changes the values (or the shape) of the
    # first case, so the first mismatch is enough to name it
    return [(torch.randn(2, 3, 8, 12, generator=g), 4), (torch.randn(1, 3, 6, 4, generator=g), 2),
            (torch.randn(3, 1, 8, 8, generator=g), 4), (torch.randn(2, 3, 16, 16, generator=g), 8)]


def _patchify_wrong(order, grid="rows"):
    """Patchify with the pixels of a patch flattened in ``order`` (a permutation of "hwc") and the patches
    taken row by row ("rows") or column by column ("cols")."""
    def f(x, p):
        B, C, H, W = x.shape
        x = x.reshape(B, C, H // p, p, W // p, p)                 # dims: B, C, gh, h, gw, w
        grid_dims = (2, 4) if grid == "rows" else (4, 2)
        inner = tuple({"h": 3, "w": 5, "c": 1}[k] for k in order)
        return x.permute(0, *grid_dims, *inner).reshape(B, (H // p) * (W // p), p * p * C)
    return f


def check_patchify(fn, strict: bool = False):
    """fn(x, p): images (B, C, H, W) → tokens (B, N, p·p·C), N = (H/p)(W/p): the p×p patches in row-major
    order (left to right, then top to bottom), each flattened in (row, column, channel) order, as
    ``diffedu.models.patchify``."""
    mistakes = [
        ("the pixels of a patch are flattened channel first, (C, p, p): the convention is (p, p, C), row, column, "
         "then channel — permute the channel dimension to the end before the last reshape.",
         _patchify_wrong("chw")),
        ("the patches come column by column: the token order is row-major (patch (0, 0), (0, 1), … along the "
         "first row of patches, then the next row), so the grid's row index must come before its column index.",
         _patchify_wrong("hwc", "cols")),
        ("inside each patch, rows and columns are swapped: flatten (row, column, channel), not (column, row, "
         "channel).", _patchify_wrong("whc")),
        ("a plain reshape to (B, N, p·p·C) does not cut patches: it takes runs of consecutive numbers in memory "
         "(parts of image rows, channel by channel). Split H and W into (H/p, p) and (W/p, p) and permute first.",
         lambda x, p: x.reshape(x.shape[0], -1, p * p * x.shape[1])),
        ("the pixels of a patch are flattened channel first and the patches come column by column.",
         _patchify_wrong("chw", "cols")),
    ]
    return run_check("patchify", fn, patchify, _images(), mistakes, strict)


def _unpatchify_cases():
    return [(patchify(x, p), p, x.shape[1], x.shape[2], x.shape[3]) for x, p in _images()]


def _unpatchify_wrong(order, grid="rows"):
    def f(tokens, p, C, H, W):
        B, gh, gw = tokens.shape[0], H // p, W // p
        sizes = {"h": p, "w": p, "c": C}
        if grid == "rows":
            t = tokens.reshape(B, gh, gw, *(sizes[k] for k in order))
        else:
            t = tokens.reshape(B, gw, gh, *(sizes[k] for k in order)).transpose(1, 2)
        where = {k: 3 + i for i, k in enumerate(order)}
        return t.permute(0, where["c"], 1, where["h"], 2, where["w"]).reshape(B, C, H, W)
    return f


def check_unpatchify(fn, strict: bool = False):
    """fn(tokens, p, C, H, W): tokens (B, N, p·p·C) → images (B, C, H, W), the inverse of ``check_patchify``'s
    function (``diffedu.models.unpatchify``)."""
    mistakes = [
        ("each token is read as (C, p, p): patchify flattened it as (p, p, C), so reshape the last dimension to "
         "(p, p, C) and move the channels to the front.", _unpatchify_wrong("chw")),
        ("the tokens are laid out column by column: token n is the patch at grid row n // (W/p), column "
         "n % (W/p).", _unpatchify_wrong("hwc", "cols")),
        ("inside each patch, rows and columns are swapped: a token holds (row, column, channel).",
         _unpatchify_wrong("whc")),
        ("a plain reshape to (B, C, H, W) does not put the patches back: reshape to (B, H/p, W/p, p, p, C), "
         "permute to (B, C, H/p, p, W/p, p), then reshape.", lambda tk, p, C, H, W: tk.reshape(tk.shape[0], C, H, W)),
    ]
    return run_check("unpatchify", fn, lambda tk, p, C, H, W: unpatchify(tk, p, C, H, W), _unpatchify_cases(),
                     mistakes, strict)


def _layer_norm(x, dim=-1, eps=1e-6):
    mu = x.mean(dim, keepdim=True)
    var = x.var(dim, unbiased=False, keepdim=True)
    return (x - mu) / torch.sqrt(var + eps)


def _adaln(x, shift, scale):
    return F.layer_norm(x, x.shape[-1:], eps=1e-6) * (1 + scale[:, None]) + shift[:, None]


def _adaln_cases():
    g = torch.Generator().manual_seed(88)
    cases = []
    for B, N, D in ((2, 5, 8), (3, 16, 12), (1, 4, 6)):
        # tokens with their own mean and spread, so a missing or misplaced LayerNorm shows
        x = 3.0 + 2.0 * torch.randn(B, N, D, generator=g, dtype=torch.float64)
        cases.append((x, torch.randn(B, D, generator=g, dtype=torch.float64),
                      0.5 * torch.randn(B, D, generator=g, dtype=torch.float64)))
    return cases


def check_adaln(fn, strict: bool = False):
    """fn(x, shift, scale): tokens x (B, N, D), one shift and one scale (B, D) per sample →
    LN(x) ⊙ (1 + scale) + shift, LN a LayerNorm over the D features without learned parameters (eps = 1e-6),
    shift and scale broadcast over the N tokens of their sample."""
    mistakes = [
        ("the scale is used without the 1 +: LN(x) ⊙ (1 + scale) + shift. With the 1, a zero-initialised scale "
         "leaves LN(x) unchanged (adaLN-Zero's starting point); without it, it multiplies the tokens by 0.",
         lambda x, b, s: _layer_norm(x) * s[:, None] + b[:, None]),
        ("shift and scale are swapped: the scale multiplies, LN(x) ⊙ (1 + scale), and the shift is added.",
         lambda x, b, s: _layer_norm(x) * (1 + b[:, None]) + s[:, None]),
        ("the LayerNorm is missing: normalise each token over its D features first (mean 0, variance 1).",
         lambda x, b, s: x * (1 + s[:, None]) + b[:, None]),
        ("the LayerNorm normalises over the tokens (dim 1): it acts on each token separately, over its D "
         "features (the last dimension).", lambda x, b, s: _layer_norm(x, 1) * (1 + s[:, None]) + b[:, None]),
        ("the LayerNorm divides by the unbiased standard deviation (N − 1): LayerNorm uses the plain variance "
         "(unbiased=False).", lambda x, b, s: (x - x.mean(-1, keepdim=True)) / (x.var(-1, keepdim=True) + 1e-6).sqrt()
         * (1 + s[:, None]) + b[:, None]),
        ("the normalisation uses statistics of the whole sample (all tokens and features): LayerNorm normalises "
         "each token over its own D features.", lambda x, b, s: _layer_norm(x.flatten(1)).reshape(x.shape)
         * (1 + s[:, None]) + b[:, None]),
    ]

    def student(x, shift, scale):
        try:
            return fn(x, shift, scale)
        except RuntimeError as e:
            if "must match the size" in str(e):  # (B, N, D) against (B, D): the token axis is missing
                raise RuntimeError("shift and scale are (B, D), one row per sample: give them a token axis, "
                                   "shift[:, None] of shape (B, 1, D), so they broadcast over the N tokens. "
                                   f"(PyTorch said: {e})") from None
            raise

    return run_check("adaLN modulation", student, _adaln, _adaln_cases(), mistakes, strict, tol=1e-5)
