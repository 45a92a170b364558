"""Checkers for lesson 11 (fine-tuning): the LoRA forward pass, DreamBooth's prior-preservation loss and textual
inversion's objective."""
from __future__ import annotations

import math

import torch
from torch import nn

from ..adapt.lora import add_lora
from ..schedules import linear
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


def _frozen_text_model(d_in: int, dim: int, seed: int):
    """Stand-ins for the frozen text encoder c_θ and denoiser ε_θ: fixed random maps. c_θ mixes every token with the
    prompt's mean (so the context of each token depends on the whole prompt, as a transformer's does); ε_θ reads
    z_t, t and the mean context."""
    g = torch.Generator().manual_seed(seed)
    rnd = lambda *shape: torch.randn(*shape, generator=g, dtype=torch.float64)  # noqa: E731
    a, m = rnd(dim, dim) / dim**0.5, rnd(dim, dim) / dim**0.5
    wz, wt, wc, wo = rnd(d_in, 8) / d_in**0.5, rnd(8), rnd(dim, 8) / dim**0.5, rnd(8, d_in) / 8**0.5

    def c_theta(e):                                             # (B, L, D) token embeddings → (B, L, D) context
        return torch.tanh(e @ a + e.mean(1, keepdim=True) @ m)

    def eps_theta(z, t, c):                                     # (B, …), (B,), (B, L, D) → (B, …)
        h = torch.tanh(z.flatten(1) @ wz + t.to(z.dtype)[:, None] / 1000 * wt + c.mean(1) @ wc)
        return (h @ wo).reshape(z.shape)
    return c_theta, eps_theta


def _z_t(x0, eps, alpha_bar, sqrt=True):
    ab = alpha_bar.reshape(-1, *[1] * (x0.ndim - 1))
    return ab.sqrt() * x0 + (1 - ab).sqrt() * eps if sqrt else ab * x0 + (1 - ab) * eps


def inversion_loss(v, table, c_theta, eps_theta, ids, x0, t, eps, alpha_bar):
    """The reference: mean over the batch and every entry of (ε − ε_θ(z_t, t, c_θ(y)))², z_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε,
    where the prompt y's token embeddings read the frozen table for the old words and v for S_* (id = len(table))."""
    e = torch.cat([table, v[None]])[ids]                        # what adapt.WordEmbedding does: id ≥ V reads v
    return ((eps - eps_theta(_z_t(x0, eps, alpha_bar), t, c_theta(e))) ** 2).mean()


def _grad_on_v(fn):
    """fn's loss and its gradient with respect to v (zeros when no gradient reaches v)."""
    def run(v, *rest):
        v = v.detach().clone().requires_grad_(True)
        with torch.enable_grad():                               # even when the checker is called under no_grad
            loss = fn(v, *rest)
        if not torch.is_tensor(loss) or loss.numel() != 1:
            return loss
        with torch.enable_grad():
            grad = torch.autograd.grad(loss, v, allow_unused=True)[0] if loss.requires_grad else None
        return torch.zeros_like(v) if grad is None else grad
    return run


def check_inversion_loss(fn, strict: bool = False):
    """fn(v, table, c_theta, eps_theta, ids, x0, t, eps, alpha_bar) → textual inversion's loss, a number:
    v (D,) the new word's embedding — the only thing that trains; table (V, D) the frozen embeddings of the old
    words, S_* being id V (one past the table); c_theta (B, L, D) → (B, L, D) the frozen text encoder; eps_theta(z_t,
    t, c) → (B, …) the frozen denoiser; ids (B, L) the prompts y, each containing S_*; x0 (B, …) the examples, t (B,)
    their steps, eps (B, …) the noise, alpha_bar (B,) the ᾱ_t. The loss is the mean over the batch and every entry
    of (ε − ε_θ(z_t, t, c_θ(y)))² with z_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε. The checker also differentiates your loss with
    respect to v: the gradient must reach it."""
    gen = _gen()
    abar = linear(1000).alpha_bars
    cases = []
    for k, (shape, vocab, dim, length) in enumerate((((3, 1, 4, 4), 9, 6, 4), ((5, 2), 7, 4, 3))):
        rnd = lambda *s: torch.randn(*s, generator=gen, dtype=torch.float64)  # noqa: E731
        b = shape[0]
        ids = torch.randint(0, vocab, (b, length), generator=gen)
        ids[torch.arange(b), torch.randint(0, length, (b,), generator=gen)] = vocab   # S_* somewhere in each prompt
        t = torch.randint(1, 1001, (b,), generator=gen)
        c_theta, eps_theta = _frozen_text_model(math.prod(shape[1:]), dim, seed=k)
        cases.append((rnd(dim), rnd(vocab, dim), c_theta, eps_theta, ids, rnd(*shape), t, rnd(*shape), abar[t]))

    def variant(target=None, z=None, context=None, table_rows=None, reduce=None):
        def f(v, table, c_theta, eps_theta, ids, x0, t, eps, ab):
            rows = torch.cat([table, v[None]]) if table_rows is None else table_rows(table, v)
            e = rows[ids.clamp(max=len(rows) - 1)]
            zt = _z_t(x0, eps, ab) if z is None else z(x0, eps, ab)
            c = c_theta(e) if context is None else context(e)
            err = ((eps if target is None else target(x0, eps)) - eps_theta(zt, t, c)) ** 2
            return err.mean() if reduce is None else reduce(err)
        return f

    mistakes = [
        ("the target is the image x_0: the loss regresses the noise ε that made z_t (ε_θ predicts ε).",
         variant(target=lambda x0, eps: x0)),
        ("ε_θ was given the clean x_0: it must see the noised z_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε.",
         variant(z=lambda x0, eps, ab: x0)),
        ("the square roots are missing: z_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε (ᾱ_t is a variance share, not an amplitude).",
         variant(z=lambda x0, eps, ab: _z_t(x0, eps, ab, sqrt=False))),
        ("ε_θ was given the token embeddings themselves: the prompt goes through the frozen text encoder c_θ(y), "
         "the new word like every other; only its input row v is new.", variant(context=lambda e: e)),
        ("S_* never reads v: its id V is one past the frozen table, so look it up in the table with v appended "
         "(torch.cat([table, v[None]])[ids]), not in the old table.", variant(table_rows=lambda table, v: table)),
        ("you summed over the entries (the lecture's ‖·‖², a squared norm per image): the minimiser v* is the same, but "
         "this exercise, like `diffusion_loss`, takes the mean over the batch and every entry.",
         variant(reduce=lambda err: err.flatten(1).sum(1).mean())),
        ("you summed over the batch and every entry: take the mean (like `diffusion_loss`); the minimiser is the same.",
         variant(reduce=lambda err: err.sum())),
    ]
    first = run_check("textual-inversion loss", fn, inversion_loss, cases, mistakes, strict, tol=1e-9)
    if not first:
        return first
    no_grad = [("the loss is right but no gradient reaches v: it was computed from a detached copy of v or under "
                "torch.no_grad(). v is the one thing textual inversion trains, so the loss must be a differentiable "
                "function of it.", lambda v, *rest: torch.zeros_like(v))]
    return run_check("textual-inversion loss (its gradient with respect to v)", _grad_on_v(fn),
                     _grad_on_v(inversion_loss), cases, no_grad, strict, tol=1e-9)
