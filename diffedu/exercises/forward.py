"""Checkers for lessons 01–02: the closed form q(x_t|x_0), the posterior, one DDPM step, the embedding."""
from __future__ import annotations

import torch

from .. import forward, schedules
from ..models.embedding import timestep_embedding
from ._check import run_check


def _cases(shape=(6, 2), T=100, n=3):
    g = torch.Generator().manual_seed(7)
    s = schedules.linear(T)
    out = []
    for _ in range(n):
        x0 = torch.randn(shape, generator=g, dtype=torch.float64)
        noise = torch.randn(shape, generator=g, dtype=torch.float64)
        t = torch.randint(2, T + 1, (shape[0],), generator=g)
        out.append((x0, t, s, noise))
    return out


def check_q_sample(fn, strict: bool = False):
    """fn(x0, t, sched, noise) → x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε."""
    def ref(x0, t, s, e):
        return forward.q_sample(x0, t, s, noise=e)

    def col(s, v, t, x):
        return s.at(v, t, x)

    mistakes = [
        ("you used α_t (one step) where ᾱ_t (the product up to t) belongs.",
         lambda x0, t, s, e: col(s, s.alphas, t, x0).sqrt() * x0 + (1 - col(s, s.alphas, t, x0)).sqrt() * e),
        ("the square roots are missing: the coefficients are √ᾱ_t and √(1 − ᾱ_t), not ᾱ_t and 1 − ᾱ_t.",
         lambda x0, t, s, e: col(s, s.alpha_bars, t, x0) * x0 + (1 - col(s, s.alpha_bars, t, x0)) * e),
        ("x_0 and ε have swapped coefficients.",
         lambda x0, t, s, e: (1 - col(s, s.alpha_bars, t, x0)).sqrt() * x0 + col(s, s.alpha_bars, t, x0).sqrt() * e),
        ("you used β_t for the noise scale: after many steps the variance is 1 − ᾱ_t, not β_t.",
         lambda x0, t, s, e: col(s, s.alpha_bars, t, x0).sqrt() * x0 + col(s, s.betas, t, x0).sqrt() * e),
    ]
    return run_check("q_sample", fn, ref, _cases(), mistakes, strict)


def check_posterior(fn, strict: bool = False):
    """fn(x0, xt, t, sched) → (mean, variance) of q(x_{t−1} | x_t, x_0)."""
    cases = [(x0, forward.q_sample(x0, t, s, noise=e), t, s) for x0, t, s, e in _cases()]

    def slide(x0, xt, t, s):  # the slide's version, with the bars missing on α_{t−1}
        a, a_prev, ab = (s.at(v, t, x0) for v in (s.alphas, torch.cat([s.alphas.new_ones(1), s.alphas[:-1]]),
                                                  s.alpha_bars))
        mean = (a.sqrt() * (1 - a_prev) * xt + a_prev.sqrt() * (1 - a) * x0) / (1 - ab)
        return mean, (1 - a) * (1 - a_prev) / (1 - ab)

    def swapped(x0, xt, t, s):
        m, v = forward.q_posterior(xt, x0, t, s)
        return m, v

    mistakes = [("this is the slide's formula with α_{t−1} where ᾱ_{t−1} belongs (the bars are missing on "
                 "the slide). Redo the algebra with q(x_{t−1}|x_0) = N(√ᾱ_{t−1} x_0, (1 − ᾱ_{t−1}) I).", slide),
                ("x_0 and x_t have swapped roles in the mean.", swapped)]
    return run_check("posterior q(x_{t-1} | x_t, x_0)", fn, forward.q_posterior, cases, mistakes, strict)


def check_ddpm_step_mean(fn, strict: bool = False):
    """fn(xt, t, eps, sched) → μ_θ = (x_t − β_t/√(1 − ᾱ_t) ε) / √α_t (Algorithm 2 without the noise)."""
    cases = [(forward.q_sample(x0, t, s, noise=e), t, e, s) for x0, t, s, e in _cases()]

    def in_practice_slide(xt, t, eps, s):
        ab = s.at(s.alpha_bars, t, xt)
        return (xt - (1 - ab) / (1 - ab).sqrt() * eps) / ab.sqrt()

    def no_sqrt(xt, t, eps, s):
        a, ab = s.at(s.alphas, t, xt), s.at(s.alpha_bars, t, xt)
        return (xt - (1 - a) / (1 - ab) * eps) / a.sqrt()

    mistakes = [("this is the 'In practice' slide's version with bars on every α: that bracket is x̂_0 itself, "
                 "so the sampler would jump to the denoised guess at every step. Only √(1 − ᾱ_t) has a bar.",
                 in_practice_slide),
                ("the ε coefficient is β_t / √(1 − ᾱ_t): the square root is missing.", no_sqrt)]
    return run_check("DDPM step mean", fn, forward.ddpm_mean, cases, mistakes, strict)


def check_timestep_embedding(fn, strict: bool = False):
    """fn(t, dim) → (B, dim) with PE(t, 2i) = sin(t/10000^{2i/d}), PE(t, 2i+1) = cos(…)."""
    cases = [(torch.tensor([0, 3, 250, 999]), 8), (torch.tensor([1, 500]), 32)]

    def concatenated(t, d):  # the other common layout: all sines, then all cosines
        e = timestep_embedding(t, d)
        return torch.cat([e[:, 0::2], e[:, 1::2]], dim=1)

    def no_two(t, d):
        i = torch.arange(d // 2, dtype=torch.float64)
        ang = t.double()[:, None] / 10000 ** (i / d)
        return torch.stack([ang.sin(), ang.cos()], -1).reshape(len(t), d)

    mistakes = [("you concatenated [sin…, cos…]; the lecture interleaves them: even columns sin, odd cos.",
                 concatenated),
                ("the exponent is 2i/d, not i/d.", no_two)]
    return run_check("timestep embedding", fn, timestep_embedding, cases, mistakes, strict, tol=1e-5)
