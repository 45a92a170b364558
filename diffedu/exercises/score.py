"""Checkers for lessons 03–05: the DSM target, a Langevin step, ε → score, the probability-flow drift."""
from __future__ import annotations

import math

import torch

from .. import forward, schedules
from .. import processes as S
from ._check import run_check


def _gen():
    return torch.Generator().manual_seed(11)


def check_dsm_target(fn, strict: bool = False):
    """fn(x_noisy, x_clean, sigma) → ∇_x̃ log q_σ(x̃ | x) = −(x̃ − x)/σ²."""
    g = _gen()
    cases = []
    for sigma in (0.1, 0.5, 2.0):
        x = torch.randn(8, 2, generator=g, dtype=torch.float64)
        cases.append((x + sigma * torch.randn(8, 2, generator=g, dtype=torch.float64), x, sigma))
    mistakes = [("the sign is flipped: the score points from the noisy point back towards the clean one.",
                 lambda xn, x, s: (xn - x) / s**2),
                ("you divided by σ, not σ²: with x̃ = x + σε the target is −ε/σ = −(x̃ − x)/σ².",
                 lambda xn, x, s: -(xn - x) / s)]
    return run_check("DSM target", fn, lambda xn, x, s: -(xn - x) / s**2, cases, mistakes, strict)


def check_langevin_step(fn, strict: bool = False):
    """fn(x, score, step_size, z) → x + ε·score + √(2ε)·z."""
    g = _gen()
    cases = [(torch.randn(6, 2, generator=g, dtype=torch.float64), torch.randn(6, 2, generator=g, dtype=torch.float64),
              eps, torch.randn(6, 2, generator=g, dtype=torch.float64)) for eps in (0.01, 0.1)]
    mistakes = [("the noise is √ε·z; Langevin needs √(2ε)·z, otherwise it samples p² (too sharp), not p.",
                 lambda x, s, e, z: x + e * s + math.sqrt(e) * z),
                ("the step goes down the score: ascend, x + ε∇log p.", lambda x, s, e, z: x - e * s + math.sqrt(2 * e) * z),
                ("the score step is ε/2·∇log p with noise √(2ε)? Either write x + ε s + √(2ε) z, or ε/2 with √ε.",
                 lambda x, s, e, z: x + e / 2 * s + math.sqrt(2 * e) * z)]
    return run_check("Langevin step", fn, lambda x, s, e, z: x + e * s + math.sqrt(2 * e) * z, cases, mistakes, strict)


def check_score_from_eps(fn, strict: bool = False):
    """fn(eps, t, sched, xt) → ∇log q_t(x_t) = −ε/√(1 − ᾱ_t) (the VP form of s = −ε/σ)."""
    g = _gen()
    s = schedules.cosine(100)
    cases = []
    for _ in range(3):
        eps = torch.randn(5, 2, generator=g, dtype=torch.float64)
        t = torch.randint(1, 101, (5,), generator=g)
        cases.append((eps, t, s, torch.randn(5, 2, generator=g, dtype=torch.float64)))

    def ref(eps, t, s, xt):
        return forward.score_from_eps(xt, t, eps, s)

    mistakes = [("you divided by the VE σ_t = √((1 − ᾱ_t)/ᾱ_t); in the VP form x_t = √ᾱ x_0 + √(1 − ᾱ) ε the noise "
                 "standard deviation is √(1 − ᾱ_t).", lambda eps, t, s, xt: -eps / s.at(s.sigmas, t, xt)),
                ("the square root is missing: divide by √(1 − ᾱ_t).",
                 lambda eps, t, s, xt: -eps / (1 - s.at(s.alpha_bars, t, xt))),
                ("the sign: the score points *against* the noise that was added.", lambda eps, t, s, xt: -ref(eps, t, s, xt))]
    return run_check("ε → score", fn, ref, cases, mistakes, strict)


def check_pf_ode_drift(fn, strict: bool = False):
    """fn(x, t, score, sde) → f(x, t) − ½ g(t)² · score (t a (B,) tensor)."""
    g = _gen()
    sde = S.VPSDE()
    cases = []
    for _ in range(3):
        x = torch.randn(5, 2, generator=g, dtype=torch.float64)
        t = torch.rand(5, generator=g, dtype=torch.float64)
        cases.append((x, t, torch.randn(5, 2, generator=g, dtype=torch.float64), sde))

    def ref(x, t, s, sde):
        return sde.drift(x, t) - 0.5 * sde.diffusion(t)[:, None] ** 2 * s

    mistakes = [("that is the reverse SDE's drift f − g²s: the ODE takes half of the score term, f − ½g²s.",
                 lambda x, t, s, sde: sde.drift(x, t) - sde.diffusion(t)[:, None] ** 2 * s),
                ("the drift f(x, t) = −½β(t)x is missing.", lambda x, t, s, sde: -0.5 * sde.diffusion(t)[:, None] ** 2 * s),
                ("g(t) enters squared.", lambda x, t, s, sde: sde.drift(x, t) - 0.5 * sde.diffusion(t)[:, None] * s)]
    return run_check("probability-flow drift", fn, ref, cases, mistakes, strict)
