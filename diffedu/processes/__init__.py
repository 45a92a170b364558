"""Forward processes: every one of the course is  x_t = α_t x_0 + σ_t ε,  ε ~ N(0, I).

What differs is what "t" is and how α_t, σ_t depend on it:

    process         t                      α_t                         σ_t                 lessons
    DiscreteVP      step 0..T (an int)     √ᾱ_t                        √(1 − ᾱ_t)          01–07 (DDPM, DDIM)
    VPSDE           time in [0, 1]         e^{−¼t²(β₁−β₀) − ½tβ₀}      √(1 − α_t²)         05 (Song et al. 2021)
    CosineVP        time in [0, 1]         cos(πt/2)                   sin(πt/2)           12 (progressive distillation)
    VESDE           time in [0, 1]         1                           σ_min (σ_max/σ_min)^t  05
    VE              t is σ itself          1                           t                   03–04, EDM, consistency models
    Linear          time in [0, 1]         1 − t                       t                   13 (flow matching)

The variance-preserving ones have α_t² + σ_t² = 1 and log-SNR λ_t = log(α_t²/σ_t²). Continuous processes
also give dα/dt and dσ/dt, which is all the SDE view needs (Kingma et al. 2021, appendix):

    f(t) = (dα/dt)/α,    g(t)² = 2σ dσ/dt − 2 f σ²      so that  dx = f x dt + g dw  has these marginals,

and the probability-flow ODE velocity is E[dα/dt x_0 + dσ/dt ε | x_t] (flow matching's target). A process is
a small frozen dataclass: ``spec()`` is the dict a checkpoint stores, ``from_spec`` rebuilds it.
"""
from __future__ import annotations

from .base import Process, column
from .continuous import VE, VESDE, VPSDE, CosineVP, Linear
from .discrete import DiscreteVP

PROCESSES = {c.__name__: c for c in (DiscreteVP, VPSDE, CosineVP, VESDE, VE, Linear)}


def from_spec(spec: dict) -> Process:
    """Rebuild a process from ``Process.spec()`` (what checkpoints store)."""
    if not isinstance(spec, dict) or spec.get("kind") not in PROCESSES:
        raise ValueError(f"process spec must be a dict with 'kind' one of {sorted(PROCESSES)}, got {spec!r}")
    return PROCESSES[spec["kind"]](**{k: v for k, v in spec.items() if k != "kind"})


__all__ = ["Process", "column", "DiscreteVP", "VPSDE", "CosineVP", "VESDE", "VE", "Linear", "PROCESSES", "from_spec"]
