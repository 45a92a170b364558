"""Checkers for lesson 06: a U-Net residual block's forward pass, and the feature-map shapes level by level."""
from __future__ import annotations

import torch
from torch.nn import functional as F

from ..models.unet import ResBlock
from ._check import run_check


def _block_cases():
    torch.manual_seed(6)
    cases = []
    for cin, cout in ((16, 16), (16, 32)):
        block = ResBlock(cin, cout, emb_dim=24, dropout=0.0, groups=8).eval()
        with torch.no_grad():  # a trained-looking block: conv2 is zero at initialisation, which hides mistakes
            for p in block.parameters():
                p.add_(0.1 * torch.randn_like(p))
        g = torch.Generator().manual_seed(cin + cout)
        cases.append((block, torch.randn(2, cin, 8, 8, generator=g), torch.randn(2, 24, generator=g)))
    return cases


def _reference(block, x, emb):
    with torch.no_grad():
        return block(x, emb)


def check_resblock(fn, strict: bool = False):
    """fn(block, x, emb) → the block's output, written with its parts: norm1, conv1, emb (a Linear), norm2,
    conv2 and skip (dropout is off in eval mode)."""
    def wrong(where):
        def f(b, x, e):
            with torch.no_grad():
                h = b.conv1(F.silu(b.norm1(x)))
                add = b.emb(F.silu(e))[:, :, None, None]
                if where != "no_emb":
                    h = h + add
                h = b.conv2(F.silu(b.norm2(h)))
                return h if where == "no_skip" else b.skip(x) + h
        return f

    def emb_first(b, x, e):
        with torch.no_grad():
            h = b.conv1(F.silu(b.norm1(x)))
            h = b.conv2(F.silu(b.norm2(h))) + b.emb(F.silu(e))[:, :, None, None]
            return b.skip(x) + h

    mistakes = [("the time embedding is missing: project emb with block.emb(silu(emb)) and add it to every "
                 "pixel after conv1 (shape (B, C) → (B, C, 1, 1)).", wrong("no_emb")),
                ("the residual connection is missing: return block.skip(x) + h.", wrong("no_skip")),
                ("the embedding is added after conv2: it belongs between conv1 and norm2, so the second "
                 "convolution can act on it.", emb_first)]
    return run_check("U-Net residual block", fn, _reference, _block_cases(), mistakes, strict, tol=1e-5)


def _shapes(image_size, base_channels, channel_mults):
    return [(base_channels * m, image_size // 2**i) for i, m in enumerate(channel_mults)]


def check_level_shapes(fn, strict: bool = False):
    """fn(image_size, base_channels, channel_mults) → [(channels, resolution) of each level on the way down]."""
    cases = [(28, 32, (1, 2, 2)), (32, 64, (1, 2, 2, 2)), (64, 16, (1, 1, 2, 3, 4))]
    mistakes = [("the resolution is halved once too often: level 0 keeps the full image size.",
                 lambda s, c, m: [(c * k, s // 2 ** (i + 1)) for i, k in enumerate(m)]),
                ("the channel count is the multiplier times base_channels, not base_channels alone.",
                 lambda s, c, m: [(c, s // 2**i) for i, _ in enumerate(m)]),
                ("channels and resolution are swapped: return (channels, resolution).",
                 lambda s, c, m: [(s // 2**i, c * k) for i, k in enumerate(m)])]
    return run_check("U-Net level shapes", fn, _shapes, cases, mistakes, strict)
