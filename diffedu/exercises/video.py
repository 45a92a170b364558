"""Checkers for lesson 14's video part: cutting a clip into spacetime patches and putting it back
(``diffedu.models.patchify3d`` / ``unpatchify3d``), after lesson 08's ``check_patchify``."""
from __future__ import annotations

import torch

from ..models.video_dit import patchify3d, unpatchify3d
from ._check import run_check

_DIMS = {"t": 2, "c": 3, "h": 5, "w": 7}          # in x.reshape(B, nt, pt, C, nh, p, nw, p)
_GRID = {"t": 1, "h": 4, "w": 6}


def _clips():
    g = torch.Generator().manual_seed(14)
    # clips with T, C, H, W all different and more than one channel, so every planted mistake changes the first
    # case's values or shape: (B, T, C, H, W), pt, p
    return [(torch.randn(2, 4, 2, 8, 12, generator=g), 2, 4), (torch.randn(2, 4, 3, 8, 12, generator=g), 2, 4), (torch.randn(1, 6, 2, 6, 4, generator=g), 3, 2),
            (torch.randn(3, 4, 1, 8, 8, generator=g), 2, 4), (torch.randn(2, 2, 3, 16, 16, generator=g), 1, 8)]


def _patchify_wrong(box="tphwc", grid="thw", layout="BTCHW"):
    """patchify3d with the box flattened in ``box`` order (letters t, h, w, c), the tokens in ``grid`` order, and
    the clip read in ``layout``."""
    def f(x, pt, p):
        if layout == "BCTHW":                       # the student read (B, T, C, H, W) as (B, C, T, H, W)
            B, C, T, H, W = x.shape
            x = x.reshape(B, C, T // pt, pt, H // p, p, W // p, p).permute(0, 2, 3, 1, 4, 5, 6, 7)
        else:
            B, T, C, H, W = x.shape
            x = x.reshape(B, T // pt, pt, C, H // p, p, W // p, p)
        order = [_GRID[k] for k in grid] + [_DIMS[k] for k in box.replace("p", "")]
        return x.permute(0, *order).reshape(B, (T // pt) * (H // p) * (W // p), pt * p * p * C)
    return _safe(f)


def _safe(f):
    """A planted mistake that cannot run on a case (a shape it does not divide) reproduces nothing there."""
    def g(*args):
        try:
            return f(*args)
        except RuntimeError:
            return None
    return g


def check_patchify3d(fn, strict: bool = False):
    """fn(x, pt, p): clips (B, T, C, H, W) → tokens (B, N, pt·p·p·C), N = (T/pt)(H/p)(W/p): boxes of pt frames
    × p rows × p columns, the tokens in (frame block, row, column) order, each box flattened in (frame, row,
    column, channel) order, as ``diffedu.models.patchify3d``."""
    mistakes = [
        ("inside each box, the frame and row axes are swapped: flatten (frame, row, column, channel), not "
         "(row, frame, column, channel) — t before h.", _patchify_wrong("hptwc")),
        ("the tokens run rows first: the order is frame block, then row, then column (all patches of the "
         "first pt frames come first); here the grid's t and h are swapped.", _patchify_wrong(grid="htw")),
        ("the pixels of a box are flattened channel first, (C, pt, p, p): the convention is (pt, p, p, C), as "
         "lesson 08's (p, p, C) with the frame in front — permute the channel axis to the end.",
         _patchify_wrong("ctphw")),
        ("the clip was read as (B, C, T, H, W): this course's clips are (B, T, C, H, W), a list of frames "
         "(``moving_mnist.frames_first`` converts PyTorch's video layout).", _patchify_wrong(layout="BCTHW")),
        ("the tokens come column by column inside each frame block: rows before columns, as lesson 08.",
         _patchify_wrong(grid="twh")),
        ("inside each box, rows and columns are swapped: (frame, row, column, channel).", _patchify_wrong("tpwhc")),
        ("the patch ignores time: one token per frame and p×p patch (pt = 1) gives pt times more tokens, each "
         "pt times shorter — a spacetime patch spans pt frames.",
         lambda x, pt, p: _patchify_wrong()(x, 1, p)),
        ("a plain reshape to (B, N, pt·p·p·C) does not cut boxes: it takes runs of consecutive numbers in "
         "memory. Split T, H and W into (T/pt, pt), (H/p, p), (W/p, p) and permute first.",
         _safe(lambda x, pt, p: x.reshape(x.shape[0], -1, pt * p * p * x.shape[2]))),
    ]
    return run_check("patchify3d", fn, patchify3d, _clips(), mistakes, strict)


def _unpatchify_cases():
    return [(patchify3d(x, pt, p), pt, p, *x.shape[1:]) for x, pt, p in _clips()]


def _unpatchify_wrong(box="tphwc", grid="thw"):
    """The inverse of ``_patchify_wrong(box, grid)``: reads tokens laid out that way as if they were right."""
    def f(tokens, pt, p, T, C, H, W):
        B = tokens.shape[0]
        sizes = {"t": T // pt, "h": H // p, "w": W // p}
        inner = {"t": pt, "h": p, "w": p, "c": C}
        letters = box.replace("p", "")
        t = tokens.reshape(B, *(sizes[k] for k in grid), *(inner[k] for k in letters))
        names = [k.upper() for k in grid] + list(letters)    # upper case: grid axes, lower case: inside the box
        order = [names.index(k) + 1 for k in ("T", "t", "c", "H", "h", "W", "w")]
        return t.permute(0, *order).reshape(B, T, C, H, W)
    return _safe(f)


def check_unpatchify3d(fn, strict: bool = False):
    """fn(tokens, pt, p, T, C, H, W): tokens (B, N, pt·p·p·C) → clips (B, T, C, H, W), the inverse of
    ``check_patchify3d``'s function (``diffedu.models.unpatchify3d``)."""
    mistakes = [
        ("each token is read as (row, frame, column, channel): patchify3d flattened it as (frame, row, column, "
         "channel) — t before h.", _unpatchify_wrong("hptwc")),
        ("the tokens are read rows first: token n is frame block n // ((H/p)(W/p)), then row, then column; "
         "here the grid's t and h are swapped.", _unpatchify_wrong(grid="htw")),
        ("each token is read as (C, pt, p, p): it holds (pt, p, p, C), channels last.", _unpatchify_wrong("ctphw")),
        ("the tokens are read column by column inside each frame block: rows before columns.",
         _unpatchify_wrong(grid="twh")),
        ("inside each box, rows and columns are swapped: a token holds (frame, row, column, channel).",
         _unpatchify_wrong("tpwhc")),
        ("the clip comes back as (B, C, T, H, W): return this course's (B, T, C, H, W).",
         lambda tk, pt, p, T, C, H, W: unpatchify3d(tk, pt, p, T, C, H, W).transpose(1, 2)),
        ("a plain reshape to (B, T, C, H, W) does not put the boxes back: reshape to (B, T/pt, H/p, W/p, pt, p, "
         "p, C), permute to (B, T/pt, pt, C, H/p, p, W/p, p), then reshape.",
         _safe(lambda tk, pt, p, T, C, H, W: tk.reshape(tk.shape[0], T, C, H, W))),
    ]
    return run_check("unpatchify3d", fn, unpatchify3d, _unpatchify_cases(), mistakes, strict)
