"""Checkers for lesson 10 (text conditioning): scaled dot-product cross-attention with a padding mask, CLIP's
symmetric InfoNCE loss, and the gradient CLIP guidance adds to the score."""
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


def _noised_encoder(shape, dim: int, seed: int):
    """A stand-in for the noised CLIP's image tower f(x_t, t): a fixed random two-layer map in which t enters like a
    bias, its output scaled to unit length as ``CLIP.encode_image``'s is. ``t=None`` reads x as a clean image (t = 0),
    as the library's encoder does."""
    g = torch.Generator().manual_seed(seed)
    d_in = math.prod(shape[1:])
    w1 = torch.randn(d_in, 8, generator=g, dtype=torch.float64) / math.sqrt(d_in)
    b1 = torch.randn(8, generator=g, dtype=torch.float64)
    w2 = torch.randn(8, dim, generator=g, dtype=torch.float64) / math.sqrt(8)

    def f(x, t=None):
        tt = torch.zeros(x.shape[0], dtype=x.dtype) if t is None else torch.as_tensor(t, dtype=x.dtype)
        h = torch.tanh(x.flatten(1) @ w1 + tt.reshape(-1, 1) * b1) @ w2
        return F.normalize(h, dim=-1)
    return f


def clip_guidance_grad(x, t, f, g, logit_scale):
    """The reference: ∇_{x_t} Σ_i e^τ ⟨f(x_i, t_i), g_i⟩, each image's gradient of its own similarity to its own
    prompt — what ``guidance.CLIPGuided`` adds to the score, times the guidance scale s."""
    with torch.enable_grad():
        xg = x.detach().clone().requires_grad_(True)
        sim = math.exp(logit_scale) * (f(xg, t) * g).sum()
        (grad,) = torch.autograd.grad(sim, xg)
    return grad


def check_clip_guidance_grad(fn, strict: bool = False):
    """fn(x, t, f, g, logit_scale) → ∇_{x_t} e^τ ⟨f(x_t, t), g(c)⟩ for each image of the batch: x (B, …) the noisy
    images, t (B,) their times, f(x, t) → (B, D) the noised CLIP's image embeddings (unit length), g (B, D) the
    prompts' text embeddings (row i is image i's prompt), logit_scale τ (a float). Returns a tensor of x's shape."""
    gen = _gen()
    cases = []
    for shape, dim, tau in (((4, 1, 3, 3), 5, math.log(1 / 0.07)), ((6, 2), 3, 1.5)):
        x = torch.randn(shape, generator=gen, dtype=torch.float64)
        t = 0.1 + 0.8 * torch.rand(shape[0], generator=gen, dtype=torch.float64)
        g = F.normalize(torch.randn(shape[0], dim, generator=gen, dtype=torch.float64), dim=-1)
        cases.append((x, t, _noised_encoder(shape, dim, seed=len(cases)), g, tau))

    def grad_of(objective):  # the gradient of a (wrong) objective(x, t, f, g, τ) → a number
        def wrong(x, t, f, g, tau):
            with torch.enable_grad():
                xg = x.detach().clone().requires_grad_(True)
                return torch.autograd.grad(objective(xg, t, f, g, tau), xg)[0]
        return wrong

    mistakes = [
        ("the scale e^τ is missing: the similarity CLIP was trained with is e^τ ⟨f, g⟩, and its gradient carries the "
         "factor e^τ.", grad_of(lambda x, t, f, g, tau: (f(x, t) * g).sum())),
        ("τ multiplies the similarity: logit_scale is the *log* of the scale (CLIP learns it so that the scale "
         "stays positive); multiply by exp(logit_scale).", grad_of(lambda x, t, f, g, tau: tau * (f(x, t) * g).sum())),
        ("you averaged the similarities over the batch before differentiating, so every image's gradient came out "
         "divided by B. Differentiate the *sum*: the images do not interact, so the sum's gradient with respect to "
         "x_i is image i's own.", grad_of(lambda x, t, f, g, tau: math.exp(tau) * (f(x, t) * g).sum(-1).mean())),
        ("you summed every image's similarity to every prompt (f gᵀ, the whole matrix): image i must be pulled towards "
         "its own prompt only, the diagonal ⟨f(x_i, t_i), g_i⟩.",
         grad_of(lambda x, t, f, g, tau: math.exp(tau) * (f(x, t) @ g.T).sum())),
        ("you encoded x_t as a clean image, f(x_t) without t: the noised CLIP is trained to read x_t at its noise "
         "level, so pass t.", grad_of(lambda x, t, f, g, tau: math.exp(tau) * (f(x) * g).sum())),
        ("the sign is flipped: guidance climbs the similarity (the gradient is added to the score), so return "
         "+∇, not −∇.", lambda x, t, f, g, tau: -clip_guidance_grad(x, t, f, g, tau)),
    ]
    return run_check("CLIP guidance's gradient", fn, clip_guidance_grad, cases, mistakes, strict)
