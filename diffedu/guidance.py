"""Conditioning at sampling time: classifier guidance and classifier-free guidance (CFG).

The lecture's starting point is Bayes' rule on scores:  ∇log p(x|y) = ∇log p(x) + ∇log p(y|x).

* Classifier guidance (Dhariwal & Nichol 2021): add the gradient of a classifier trained on noisy images,
  scaled by s. In ε units (their Algorithm 2), ε̂ = ε_θ(x_t) − s·√(1 − ᾱ_t)·∇_{x_t} log p_φ(y | x_t, t), which
  plugs into DDIM unchanged; for DDPM it shifts the mean by (β_t/√α_t)·s·∇log p_φ, i.e. Algorithm 1's
  s·Σ·∇log p_φ up to the factor 1/√α_t ≈ 1.  ``classifier_guided(model, classifier, y, s)``.
* Classifier-free guidance (Ho & Salimans 2022): one network trained with and without the label;
  ε̃ = ε_∅ + w (ε_y − ε_∅) = (1 − w) ε_∅ + w ε_y. w = 0 is unconditional, w = 1 plain conditional, w > 1
  pushes further along the direction "conditional minus unconditional". (The lecture's γ is this w.)
  ``model.given(y, w)``.

Both return a model again (``diffedu.model``), so every sampler takes them unchanged.
"""
from __future__ import annotations

import torch

from .model import ClassifierGuided, Guided

__all__ = ["cfg_combine", "guided_score", "classifier_guided", "Guided", "ClassifierGuided"]


def cfg_combine(eps_uncond: torch.Tensor, eps_cond: torch.Tensor, w: float) -> torch.Tensor:
    """ε_∅ + w (ε_y − ε_∅). torch.lerp's two-sided formula returns ε_∅ at w = 0 and ε_y at w = 1 exactly."""
    return torch.lerp(eps_uncond, eps_cond, float(w))


def classifier_guided(model, classifier, y, scale: float) -> ClassifierGuided:
    """The model guided by a noisy classifier ``classifier(x_t, t) → logits`` towards labels y, scale s ≥ 0."""
    return ClassifierGuided(model, classifier, y, scale)


def guided_score(score_uncond: torch.Tensor, score_cond: torch.Tensor, gamma: float) -> torch.Tensor:
    """The lecture's (1 − γ)∇log p(x) + γ∇log p(x|y) (exact scores in the 2-D lessons)."""
    return torch.lerp(score_uncond, score_cond, float(gamma))
