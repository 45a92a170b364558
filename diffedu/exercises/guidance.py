"""Checker for lesson 07: the classifier-free guidance combination."""
from __future__ import annotations

import torch

from ..guidance import cfg_combine
from ._check import run_check


def check_cfg(fn, strict: bool = False):
    """fn(eps_uncond, eps_cond, w) → ε_∅ + w (ε_y − ε_∅)."""
    g = torch.Generator().manual_seed(5)
    cases = [(torch.randn(3, 1, 4, 4, generator=g), torch.randn(3, 1, 4, 4, generator=g), w) for w in (3.0, 7.5, 0.0, 1.0)]  # a telling w first
    mistakes = [("this is Ho & Salimans' convention (1 + w)ε_y − w ε_∅: the same family with w shifted by one "
                 "(their w = 0 is our w = 1). The lecture and this course use ε_∅ + w(ε_y − ε_∅).",
                 lambda u, c, w: (1 + w) * c - w * u),
                ("the roles are swapped: start from the unconditional ε_∅ and move towards the conditional ε_y.",
                 lambda u, c, w: c + w * (u - c)),
                ("the unconditional baseline is missing: w·ε_y alone is not a guided prediction.",
                 lambda u, c, w: w * c)]
    return run_check("classifier-free guidance", fn, cfg_combine, cases, mistakes, strict, tol=1e-5)
