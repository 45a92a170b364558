"""Checkers for lesson 10 (text conditioning): scaled dot-product cross-attention with a padding mask, and
CLIP's symmetric InfoNCE loss."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ..models.text_unet import cross_attention
from ..text.clip import info_nce
from ._check import run_check


def _gen():
    return torch.Generator().manual_seed(10)


def check_cross_attention(fn, strict: bool = False):
    """fn(q, k, v, mask) → softmax(q kᵀ/√d, masked) v: queries q (B, N, d) from the image positions, keys and
    values k, v (B, L, d) from the tokens, mask (B, L) True for real tokens (False: padding, never attended)."""
    g = _gen()
    cases = []
    for B, N, L, d in ((2, 6, 4, 8), (1, 3, 5, 4)):
        mask = torch.ones(B, L, dtype=torch.bool)
        mask[:, -2:] = False                                                  # two padding tokens
        cases.append((torch.randn(B, N, d, generator=g, dtype=torch.float64),
                      torch.randn(B, L, d, generator=g, dtype=torch.float64),
                      torch.randn(B, L, d, generator=g, dtype=torch.float64), mask))

    def ref(q, k, v, mask):
        return cross_attention(q[:, None], k[:, None], v[:, None], mask)[0][:, 0]

    def softmax_v(scores, v, mask=None):
        if mask is not None:
            scores = scores.masked_fill(~mask[:, None, :], float("-inf"))
        return scores.softmax(-1) @ v
    mistakes = [
        ("the padding is attended to: set the scores of masked-out keys to −∞ before the softmax "
         "(scores.masked_fill(~mask[:, None, :], float('-inf'))), so their weight is exactly 0.",
         lambda q, k, v, m: softmax_v(q @ k.transpose(1, 2) / math.sqrt(q.shape[-1]), v)),
        ("the scores are not scaled: divide q kᵀ by √d (d = the key width), or the softmax saturates as d grows.",
         lambda q, k, v, m: softmax_v(q @ k.transpose(1, 2), v, m)),
        ("the softmax runs over the queries: each query's weights over the *keys* (the last axis) must sum to 1.",
         lambda q, k, v, m: (q @ k.transpose(1, 2) / math.sqrt(q.shape[-1])).masked_fill(~m[:, None, :], -1e9)
         .softmax(1) @ v),
        ("you divided by d instead of √d.",
         lambda q, k, v, m: softmax_v(q @ k.transpose(1, 2) / q.shape[-1], v, m)),
    ]
    return run_check("cross-attention", fn, ref, cases, mistakes, strict)


def check_info_nce(fn, strict: bool = False):
    """fn(img, txt, logit_scale) → the symmetric InfoNCE loss: img and txt (B, D) embeddings of B matching pairs
    (row i of each belongs together, *not yet normalised*), logit_scale τ (a float; the similarity is e^τ·cos)."""
    g = _gen()
    cases = [(torch.randn(6, 5, generator=g, dtype=torch.float64), torch.randn(6, 5, generator=g, dtype=torch.float64),
              math.log(1 / 0.07)) for _ in range(2)]

    def logits(a, b, s, norm=True):
        a, b = (F.normalize(a, dim=-1), F.normalize(b, dim=-1)) if norm else (a, b)
        return math.exp(s) * a @ b.T

    def ref(a, b, s):
        return info_nce(logits(a, b, s))
    target = lambda n: torch.arange(n)  # noqa: E731
    mistakes = [
        ("only one direction: CLIP's loss averages image → caption (rows) and caption → image (columns), "
         "½ [CE(S, i) + CE(Sᵀ, i)].", lambda a, b, s: F.cross_entropy(logits(a, b, s), target(len(a)))),
        ("the embeddings are not normalised: the similarity is a cosine, ⟨a/|a|, b/|b|⟩, times e^τ.",
         lambda a, b, s: info_nce(logits(a, b, s, norm=False))),
        ("the temperature is used as τ instead of e^τ: CLIP learns the log of the scale (so it stays positive); "
         "multiply the cosines by exp(logit_scale).",
         lambda a, b, s: info_nce(s * F.normalize(a, dim=-1) @ F.normalize(b, dim=-1).T)),
        ("the temperature is missing: cosines in [−1, 1] make a softmax over the batch that is nearly flat.",
         lambda a, b, s: info_nce(logits(a, b, 0.0))),
    ]
    return run_check("InfoNCE", fn, ref, cases, mistakes, strict)
