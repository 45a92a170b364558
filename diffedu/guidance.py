"""Conditioning at sampling time: classifier guidance and classifier-free guidance (CFG).

The lecture's starting point is Bayes' rule on scores:  ∇log p(x|y) = ∇log p(x) + ∇log p(y|x).

* Classifier guidance (Dhariwal & Nichol 2021): add the gradient of a classifier trained on noisy images,
  scaled by s. In ε units (their Algorithm 2), ε̂ = ε_θ(x_t) − s·√(1 − ᾱ_t)·∇_{x_t} log p_φ(y | x_t, t), which
  plugs into DDIM unchanged; for DDPM it shifts the mean by (β_t/√α_t)·s·∇log p_φ, i.e. Algorithm 1's
  s·Σ·∇log p_φ up to the factor 1/√α_t ≈ 1.
* Classifier-free guidance (Ho & Salimans 2022): one network trained with and without the label;
  ε̃ = ε_∅ + w (ε_y − ε_∅) = (1 − w) ε_∅ + w ε_y. w = 0 is unconditional, w = 1 plain conditional, w > 1
  pushes further along the direction "conditional minus unconditional". (The lecture's γ is this w.)
"""
from __future__ import annotations

import torch

from ._checks import check_real
from .schedules import Schedule


def _labels(y, n: int, device) -> torch.Tensor:
    y = torch.as_tensor(y, dtype=torch.long, device=device)
    return y.expand(n) if y.ndim == 0 else y


def cfg_combine(eps_uncond: torch.Tensor, eps_cond: torch.Tensor, w: float) -> torch.Tensor:
    """ε_∅ + w (ε_y − ε_∅). torch.lerp's two-sided formula returns ε_∅ at w = 0 and ε_y at w = 1 exactly."""
    return torch.lerp(eps_uncond, eps_cond, float(w))


def cfg_eps_fn(model, y, w: float, null_label: int | None = None):
    """An ``eps_fn(x, t)`` for classifier-free guidance with labels ``y`` (int or (B,)) and scale w.

    One batched forward pass: the batch is doubled, [x, x] with labels [y, ∅].
    """
    w = check_real("w", w)
    null = model.num_classes if null_label is None else null_label
    param = next(model.parameters())

    def eps_fn(x, t):
        xin = x.to(param.dtype)
        B = x.shape[0]
        yy = _labels(y, B, x.device)
        if w == 0.0 or w == 1.0:  # one pass suffices, and the result is exact
            lab = yy if w == 1.0 else torch.full_like(yy, null)
            return model(xin, t, lab).to(x.dtype)
        out = model(torch.cat([xin, xin]), torch.cat([t, t]), torch.cat([yy, torch.full_like(yy, null)]))
        eps_c, eps_u = out[:B], out[B:]
        return cfg_combine(eps_u, eps_c, w).to(x.dtype)

    return eps_fn


def classifier_guidance_eps_fn(eps_fn, classifier, y, scale: float, sched: Schedule):
    """ε̂ = ε_θ − s·√(1 − ᾱ_t)·∇_x log p_φ(y | x_t, t) for a noisy classifier ``classifier(x, t) → logits``."""
    scale = check_real("scale", scale, low=0)

    def guided(x, t):
        eps = eps_fn(x, t)
        if scale == 0:
            return eps
        with torch.enable_grad():
            xg = x.detach().to(next(classifier.parameters()).dtype).requires_grad_(True)
            logp = torch.log_softmax(classifier(xg, t), dim=-1)
            picked = logp.gather(1, _labels(y, x.shape[0], x.device)[:, None]).sum()
            (grad,) = torch.autograd.grad(picked, xg)
        ab = sched.at(sched.alpha_bars, t, x)
        return eps - scale * torch.sqrt(1 - ab) * grad.to(x.dtype)

    return guided


def guided_score(score_uncond: torch.Tensor, score_cond: torch.Tensor, gamma: float) -> torch.Tensor:
    """The lecture's (1 − γ)∇log p(x) + γ∇log p(x|y) (exact scores in the 2-D lessons)."""
    return torch.lerp(score_uncond, score_cond, float(gamma))
