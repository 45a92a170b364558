"""Checkers for lesson 11 (fine-tuning): the LoRA forward pass and DreamBooth's prior-preservation loss."""
from __future__ import annotations

import torch
from torch import nn

from ..adapt.lora import add_lora
from ._check import run_check


def _gen():
    return torch.Generator().manual_seed(11)


def check_lora_forward(fn, strict: bool = False):
    """fn(x, W, b, A, B, alpha, s) → W x + b + s (α/r) B A x for a batch x (N, d_in): the frozen weight W
    (d_out, d_in) and bias b (d_out,), the adapter's A (r, d_in) and B (d_out, r), r = A.shape[0]."""
    g = _gen()
    cases = []
    for n, d_in, d_out, r, alpha, s in ((4, 6, 5, 2, 4.0, 1.0), (3, 8, 3, 4, 4.0, 0.5), (2, 5, 7, 1, 2.0, 1.5)):
        rnd = lambda *shape: torch.randn(*shape, generator=g, dtype=torch.float64)  # noqa: E731
        cases.append((rnd(n, d_in), rnd(d_out, d_in), rnd(d_out), rnd(r, d_in), rnd(d_out, r), alpha, s))

    def ref(x, w, b, a, bb, alpha, s):                 # the library's layer, loaded with these matrices
        layer = nn.Sequential(nn.Linear(w.shape[1], w.shape[0]).double())
        with torch.no_grad():
            layer[0].weight.copy_(w), layer[0].bias.copy_(b)
        add_lora(layer, ["0"], rank=a.shape[0], alpha=alpha)
        with torch.no_grad():
            layer[0].A["default"].copy_(a), layer[0].B["default"].copy_(bb)
            layer[0].scale["default"] = s
            return layer(x)

    base = lambda x, w, b: x @ w.T + b  # noqa: E731
    mistakes = [
        ("the update is scaled by α, not α/r: LoRA divides by the rank so that α keeps its meaning when r changes.",
         lambda x, w, b, a, bb, al, s: base(x, w, b) + s * al * x @ a.T @ bb.T),
        ("the scale s is missing: at inference the update is multiplied by s (0: the base model).",
         lambda x, w, b, a, bb, al, s: base(x, w, b) + al / a.shape[0] * x @ a.T @ bb.T),
        ("only the update: the frozen layer's own output W x + b must stay in (LoRA adds to it).",
         lambda x, w, b, a, bb, al, s: s * al / a.shape[0] * x @ a.T @ bb.T),
        ("the bias is missing from the frozen layer's output.",
         lambda x, w, b, a, bb, al, s: x @ w.T + s * al / a.shape[0] * x @ a.T @ bb.T),
    ]
    return run_check("LoRA forward", fn, ref, cases, mistakes, strict, tol=1e-9)


def check_prior_preservation(fn, strict: bool = False):
    """fn(pred, target, pred_prior, target_prior, lam) → mean((pred − target)²) + λ · mean((pred_prior −
    target_prior)²): the network's outputs and their targets on the subject's images (B, …) and on the prior
    images (B', …), each term a mean over its own batch and pixels."""
    g = _gen()
    cases = []
    for b, bp, lam in ((4, 4, 1.0), (2, 6, 0.5), (3, 5, 2.0)):
        rnd = lambda *shape: torch.randn(*shape, generator=g, dtype=torch.float64)  # noqa: E731
        cases.append((rnd(b, 1, 4, 4), rnd(b, 1, 4, 4), rnd(bp, 1, 4, 4), rnd(bp, 1, 4, 4), lam))

    mse = lambda p, t: ((p - t) ** 2).mean()  # noqa: E731

    def ref(p, t, pp, tp, lam):
        return mse(p, t) + lam * mse(pp, tp)
    mistakes = [
        ("λ multiplies the subject's term: it weighs the *prior* term (λ = 0 is plain fine-tuning on the subject).",
         lambda p, t, pp, tp, lam: lam * mse(p, t) + mse(pp, tp)),
        ("λ is missing: the prior term is weighted by λ.", lambda p, t, pp, tp, lam: mse(p, t) + mse(pp, tp)),
        ("the prior term is missing: that is fine-tuning without prior preservation.",
         lambda p, t, pp, tp, lam: mse(p, t)),
        ("one mean over both batches: each term is a mean over its own batch, so the balance is λ and not the "
         "batch sizes.", lambda p, t, pp, tp, lam: ((torch.cat([p, pp]) - torch.cat([t, tp])) ** 2).mean()),
        ("the errors are not squared.", lambda p, t, pp, tp, lam: (p - t).abs().mean() + lam * (pp - tp).abs().mean()),
    ]
    return run_check("prior-preservation loss", fn, ref, cases, mistakes, strict, tol=1e-9)
