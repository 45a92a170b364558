"""Checkers for lesson 00: the VAE's reparametrisation and KL term, the coupling layer's log-determinant,
the GAN's non-saturating generator loss."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ..families.gan import generator_loss
from ..families.vae import kl_standard_normal, reparameterize
from ._check import run_check


def _gen():
    return torch.Generator().manual_seed(19)


def _mean_logvar(g, n=3, shape=(7, 2)):
    return [(torch.randn(shape, generator=g, dtype=torch.float64),
             torch.randn(shape, generator=g, dtype=torch.float64)) for _ in range(n)]


def check_reparameterize(fn, strict: bool = False):
    """fn(mean, logvar, eps) → z = mean + exp(½·logvar) ⊙ eps, a draw of N(mean, diag exp(logvar))."""
    g = _gen()
    cases = [(m, lv, torch.randn(m.shape, generator=g, dtype=torch.float64)) for m, lv in _mean_logvar(g)]
    mistakes = [("you scaled ε by exp(logvar) = s², the variance (as if the encoder returned log s): the standard "
                 "deviation is s = exp(½·logvar).", lambda m, lv, e: m + lv.exp() * e),
                ("you scaled ε by logvar itself: the encoder outputs the log-variance, exponentiate it (with the ½).",
                 lambda m, lv, e: m + lv * e),
                ("the mean is missing: z = m + s ⊙ ε.", lambda m, lv, e: (0.5 * lv).exp() * e)]
    return run_check("reparametrisation", fn, reparameterize, cases, mistakes, strict)


def check_vae_kl(fn, strict: bool = False):
    """fn(mean, logvar) → KL(N(mean, diag exp(logvar)) ‖ N(0, I)) per row, shape (B,)."""
    cases = _mean_logvar(_gen())
    mistakes = [("you averaged over the latent dimensions: the KL of independent coordinates is their sum.",
                 lambda m, lv: 0.5 * (m**2 + lv.exp() - 1 - lv).mean(-1)),
                ("the factor ½ is missing.", lambda m, lv: (m**2 + lv.exp() - 1 - lv).sum(-1)),
                ("the −1 is missing: with it the KL is 0 exactly when q = N(0, I).",
                 lambda m, lv: 0.5 * (m**2 + lv.exp() - lv).sum(-1)),
                ("the sign of the log-variance term is flipped: KL = ½ Σ (m² + s² − 1 − log s²).",
                 lambda m, lv: 0.5 * (m**2 + lv.exp() - 1 + lv).sum(-1)),
                ("you read logvar as log s (log-std): then s² = exp(2·logvar) and log s² = 2·logvar. "
                 "Here logvar is log s².", lambda m, lv: 0.5 * (m**2 + (2 * lv).exp() - 1 - 2 * lv).sum(-1)),
                ("the whole sign is flipped: a KL divergence is ≥ 0.", lambda m, lv: -kl_standard_normal(m, lv)),
                ("you summed over the batch too: return one KL per row, shape (B,).",
                 lambda m, lv: kl_standard_normal(m, lv).sum())]
    return run_check("KL(q(z|x) ‖ N(0, I))", fn, kl_standard_normal, cases, mistakes, strict)


def _coupling_cases():
    g = _gen()
    cases = []
    for dim, flip in ((2, False), (2, True), (4, False)):
        mask = (torch.arange(dim) + int(flip)) % 2 == 0
        mask = mask.to(torch.float64)
        ws, wt = (torch.randn(dim, dim, generator=g, dtype=torch.float64) * 0.7 for _ in range(2))
        # s and t depend on the kept coordinates only, and (like any network) are not zero on the kept ones
        s_fn = lambda kept, w=ws: torch.tanh(kept @ w)  # noqa: E731
        t_fn = lambda kept, w=wt: kept @ w + 0.3  # noqa: E731
        cases.append((torch.randn(6, dim, generator=g, dtype=torch.float64), mask, s_fn, t_fn))
    return cases


def coupling_forward(x, mask, s_fn, t_fn):
    """The reference: y = b⊙x + (1−b)⊙(x⊙exp(s) + t), log|det ∂y/∂x| = Σ (1−b)⊙s, with s, t of b⊙x."""
    kept = x * mask
    s, t = s_fn(kept) * (1 - mask), t_fn(kept) * (1 - mask)
    return kept + (1 - mask) * (x * torch.exp(s) + t), s.sum(-1)


def check_coupling(fn, strict: bool = False):
    """fn(x, mask, s_fn, t_fn) → (y, logdet): one affine coupling layer and its log|det ∂y/∂x| (B,)."""
    def variant(logdet=None, y=None):
        def f(x, mask, s_fn, t_fn):
            ref_y, _ = coupling_forward(x, mask, s_fn, t_fn)
            s = s_fn(x * mask)
            return (ref_y if y is None else y(x, mask, s_fn, t_fn)), logdet(s, mask)
        return f

    mistakes = [
        ("the log-determinant counts the kept coordinates too: s_fn returns values there, but those coordinates "
         "pass through unchanged (a 1 on the diagonal, log 1 = 0). Sum (1 − b) ⊙ s only.",
         variant(lambda s, b: s.sum(-1))),
        ("that is the determinant Π exp(s), not its log: log|det| = Σ s.",
         variant(lambda s, b: ((1 - b) * s).exp().prod(-1))),
        ("the sign is flipped: the forward map multiplies by exp(s), so its log-determinant is +Σ s (−Σ s "
         "belongs to the inverse).", variant(lambda s, b: -((1 - b) * s).sum(-1))),
        ("you summed exp(s): the Jacobian is triangular, its determinant the product of the diagonal, "
         "so log|det| = Σ s.", variant(lambda s, b: ((1 - b) * s.exp()).sum(-1))),
        ("the mask is the wrong way round: b marks the coordinates that are *kept* (and feed s and t); "
         "the others are moved.", lambda x, m, s_fn, t_fn: coupling_forward(x, 1 - m, s_fn, t_fn)),
    ]
    return run_check("affine coupling (y, log-det)", fn, coupling_forward, _coupling_cases(), mistakes, strict)


def check_generator_loss(fn, strict: bool = False):
    """fn(fake_logits) → the non-saturating generator loss −E log σ(D(G(z)))."""
    g = _gen()
    cases = [(torch.randn(16, 1, generator=g, dtype=torch.float64) * s,) for s in (0.5, 3.0)]
    mistakes = [("this is the saturating minimax loss E log(1 − σ(D(G(z)))): its gradient vanishes when D "
                 "rejects the fakes confidently, early in training. Use −E log σ(D(G(z))).",
                 lambda d: -F.softplus(d).mean()),
                ("the sign is flipped: the generator wants D(G(z)) large, so its loss is −E log σ(D(G(z))).",
                 lambda d: -F.softplus(-d).mean()),
                ("that is the discriminator's term for fakes, E softplus(D(G(z))): the generator's loss labels its "
                 "fakes *real*.", lambda d: F.softplus(d).mean())]
    return run_check("non-saturating generator loss", fn, generator_loss, cases, mistakes, strict)
