"""Checkers for lesson 12 (few-step sampling): the progressive-distillation target x̃ (the lecture's
Algorithm 2, line "Teacher x̂ target"), a consistency parameterisation's boundary condition, and the target of
guided distillation's first stage (Meng et al. 2023)."""
from __future__ import annotations

import torch

from ._check import run_check


def _gen():
    return torch.Generator().manual_seed(12)


def distill_target(z_t, z_t2, a_t, s_t, a_t2, s_t2):
    """The reference: x̃ = (z_{t''} − (σ_{t''}/σ_t) z_t) / (α_{t''} − (σ_{t''}/σ_t) α_t) (numbers or (B,) tensors
    broadcast over the rest: ``diffedu.fewstep.distill_target`` computes it from the teacher's two steps)."""
    col = lambda v: torch.as_tensor(v, dtype=z_t.dtype).reshape(-1, *[1] * (z_t.ndim - 1))  # noqa: E731
    r = col(s_t2) / col(s_t)
    return (z_t2 - r * z_t) / (col(a_t2) - r * col(a_t))


def check_distill_target(fn, strict: bool = False):
    """fn(z_t, z_t2, a_t, s_t, a_t2, s_t2) → x̃: the x_0 for which ONE DDIM step from z_t (time t) lands on z_t2,
    where the teacher's two steps landed (time t''). a_*, s_*: α and σ at t and t'' as (B,) tensors; z: (B, …)."""
    g = _gen()
    cases = []
    for shape in ((6, 2), (3, 1, 4, 4)):
        t = 0.3 + 0.6 * torch.rand(shape[0], generator=g, dtype=torch.float64)
        t2 = t - 0.2
        a_t, s_t, a_t2, s_t2 = torch.cos(t * torch.pi / 2), torch.sin(t * torch.pi / 2), \
            torch.cos(t2 * torch.pi / 2), torch.sin(t2 * torch.pi / 2)
        cases.append((torch.randn(shape, generator=g, dtype=torch.float64),
                      torch.randn(shape, generator=g, dtype=torch.float64), a_t, s_t, a_t2, s_t2))

    def variant(f):
        return lambda z, z2, a, s, a2, s2: f(z, z2, *(torch.as_tensor(v).reshape(-1, *[1] * (z.ndim - 1))
                                                   for v in (a, s, a2, s2)))

    mistakes = [
        ("you divided by α_{t''} alone, as if the step started from pure noise: the student's step keeps the share "
         "(σ_{t''}/σ_t) z_t of where it starts, so its α_t x_0 part must be taken out of the denominator too: "
         "α_{t''} − (σ_{t''}/σ_t) α_t.", variant(lambda z, z2, a, s, a2, s2: (z2 - s2 / s * z) / a2)),
        ("the ratio is upside down: the DDIM step rescales the start's noise by σ_{t''}/σ_t (the new noise level over "
         "the old), not σ_t/σ_{t''}.", variant(lambda z, z2, a, s, a2, s2: (z2 - s / s2 * z) / (a2 - s / s2 * a))),
        ("you returned the teacher's end point z_{t''} divided by α_{t''}, the x̂_0 a one-step sampler from pure "
         "noise would need: solve the DDIM step from z_t for x_0 instead.",
         variant(lambda z, z2, a, s, a2, s2: z2 / a2)),
        ("a sign slipped: the student's step keeps + (σ_{t''}/σ_t) z_t, so solving for x_0 subtracts it from z_{t''} "
         "and subtracts (σ_{t''}/σ_t) α_t from α_{t''}.",
         variant(lambda z, z2, a, s, a2, s2: (z2 + s2 / s * z) / (a2 + s2 / s * a))),
    ]
    return run_check("progressive-distillation target x̃", fn, distill_target, cases, mistakes, strict)


def consistency_function(F, x, t, t_min=0.002, sigma_data=0.5):
    """The reference: f(x, t) = c_skip(t) x + c_out(t) F(x, t) with Song et al.'s VE coefficients,
    c_skip = σ_d² / ((t − t_min)² + σ_d²), c_out = σ_d (t − t_min) / √(σ_d² + t²)."""
    tc = t.reshape(-1, *[1] * (x.ndim - 1))
    c_skip = sigma_data**2 / ((tc - t_min) ** 2 + sigma_data**2)
    c_out = sigma_data * (tc - t_min) / torch.sqrt(sigma_data**2 + tc**2)
    return c_skip * x + c_out * F(x, t)


def _net(x, t):
    """A stand-in for F_θ: any function will do, which is the point of the parameterisation."""
    return torch.tanh(x) * 3 + t.reshape(-1, *[1] * (x.ndim - 1))


def check_consistency_boundary(fn, strict: bool = False):
    """fn(F, x, t, t_min=0.002, sigma_data=0.5) → f(x, t) = c_skip(t) x + c_out(t) F(x, t) (VE, t = σ), built so that
    f(x, t_min) = x for every network F. The cases include t = t_min exactly and larger t."""
    g = _gen()
    cases = []
    for shape in ((5, 2), (2, 1, 3, 3)):
        t = torch.cat([torch.full((1,), 0.002, dtype=torch.float64),
                       0.01 + 5 * torch.rand(shape[0] - 1, generator=g, dtype=torch.float64)])
        cases.append((_net, torch.randn(shape, generator=g, dtype=torch.float64), t))

    def variant(skip, out):
        def f(F, x, t, t_min=0.002, sigma_data=0.5):
            tc = t.reshape(-1, *[1] * (x.ndim - 1))
            return skip(tc, t_min, sigma_data) * x + out(tc, t_min, sigma_data) * F(x, t)
        return f

    ok_skip = lambda t, m, d: d**2 / ((t - m) ** 2 + d**2)  # noqa: E731
    mistakes = [
        ("c_skip and c_out use t instead of t − t_min (EDM's coefficients): then c_out(t_min) ≠ 0 and "
         "f(x, t_min) ≠ x — the boundary condition holds only in the limit t_min → 0.",
         variant(lambda t, m, d: d**2 / (t**2 + d**2), lambda t, m, d: d * t / torch.sqrt(d**2 + t**2))),
        ("c_skip and c_out are swapped: at t_min the network's output would be returned instead of x.",
         variant(lambda t, m, d: d * (t - m) / torch.sqrt(d**2 + t**2), lambda t, m, d: d**2 / ((t - m) ** 2 + d**2))),
        ("c_out is missing its factor (t − t_min): f(x, t_min) = x + c_out F ≠ x.",
         variant(ok_skip, lambda t, m, d: d / torch.sqrt(d**2 + t**2))),
        ("f = F(x, t) alone (no skip): nothing forces f(x, t_min) = x, so the network must learn the boundary.",
         variant(lambda t, m, d: torch.zeros_like(t), lambda t, m, d: torch.ones_like(t))),
    ]
    return run_check("consistency parameterisation f(x, t)", fn, consistency_function, cases, mistakes, strict)


_LABEL_SHIFT = torch.linspace(-1.0, 1.0, 10, dtype=torch.float64)   # the stand-in teacher's answer to each label
_NULL_SHIFT = 0.3                                                   # … and to the empty label ∅


def _guided_teacher(z, t, y):
    """A stand-in for the teacher's x̂_η(z_t; y): any function of (z_t, t, y) will do; y = None is the empty label ∅."""
    col = lambda v: torch.as_tensor(v, dtype=z.dtype).reshape(-1, *[1] * (z.ndim - 1))  # noqa: E731
    shift = _NULL_SHIFT if y is None else col(_LABEL_SHIFT[y])
    return torch.tanh(z) * (1 - 0.5 * col(t)) + shift * (1 + z**2) / 2


def guided_target(teacher, z_t, t, y, w):
    """The reference: x̂_∅ + w (x̂_y − x̂_∅), each sample with its own w (``fewstep.guided_target`` computes it from
    ``teacher.given(y, w)``: w = 0 is the unconditional teacher, w = 1 the conditional one)."""
    u, c = teacher(z_t, t, None), teacher(z_t, t, y)
    return u + w.reshape(-1, *[1] * (z_t.ndim - 1)) * (c - u)


def check_guided_target(fn, strict: bool = False):
    """fn(teacher, z_t, t, y, w) → x̂_η(z_t; ∅) + w (x̂_η(z_t; y) − x̂_η(z_t; ∅)): the guided teacher's x̂_0, what the
    w-student regresses on. teacher(z, t, y) → x̂_0 (y = None asks for the empty label ∅); z_t (B, …), t (B,), y (B,)
    labels, w (B,) one guidance scale per sample (this course's convention: w = 0 unconditional, w = 1 conditional)."""
    g = _gen()
    cases = []
    for shape in ((3, 1, 2, 3), (5, 2)):          # the first one's last axis is as long as the batch (see mistakes)
        b = shape[0]
        cases.append((_guided_teacher, torch.randn(shape, generator=g, dtype=torch.float64),
                      0.1 + 0.8 * torch.rand(b, generator=g, dtype=torch.float64),
                      torch.randint(0, 10, (b,), generator=g), 6 * torch.rand(b, generator=g, dtype=torch.float64)))

    def variant(combine):
        def f(teacher, z, t, y, w):
            return combine(teacher(z, t, None), teacher(z, t, y), w.reshape(-1, *[1] * (z.ndim - 1)))
        return f

    mistakes = [
        ("this is Meng et al.'s convention, (1 + w) x̂_y − w x̂_∅: the same family with w shifted by one (their w = 0 is "
         "our w = 1). This course writes x̂_∅ + w (x̂_y − x̂_∅): w = 0 is the unconditional teacher.",
         variant(lambda u, c, w: (1 + w) * c - w * u)),
        ("the roles are swapped: start from the unconditional x̂_∅ and move towards the conditional x̂_y.",
         variant(lambda u, c, w: c + w * (u - c))),
        ("both passes asked the teacher for the label, so the guidance term vanished: the second pass is the empty "
         "label ∅ (teacher(z_t, t, None)).", variant(lambda u, c, w: c)),
        ("the difference is missing: x̂_∅ + w x̂_y is not a guided prediction; move from x̂_∅ along x̂_y − x̂_∅.",
         variant(lambda u, c, w: u + w * c)),
        ("w multiplied along the last axis: a (B,) tensor times a (B, …) tensor lines up with the *last* dimension. "
         "Reshape it to w.reshape(-1, *[1] * (z_t.ndim - 1)) so that each sample gets its own w.",
         lambda teacher, z, t, y, w: teacher(z, t, None) + w * (teacher(z, t, y) - teacher(z, t, None))),
        ("one w for the whole batch: each sample has its own guidance scale (the student is trained on a different w "
         "per sample), so use w[i] for sample i.",
         variant(lambda u, c, w: u + w.flatten()[0] * (c - u))),
        ("one w for the whole batch (their mean): each sample has its own guidance scale, so use w[i] for sample i.",
         variant(lambda u, c, w: u + w.mean() * (c - u))),
    ]
    return run_check("guided-distillation target", fn, guided_target, cases, mistakes, strict)
