"""Ancestral DDPM sampling — Ho et al. 2020, Algorithm 2.

    x_{t−1} = (x_t − β_t / √(1 − ᾱ_t) · ε_θ(x_t, t)) / √α_t + σ_t z,    z ~ N(0, I) if t > 1 else 0

with σ_t² = β_t (the upper bound on the reverse variance) or β̃_t (the lower bound, exact for a single
data point). Ho et al. report both give similar samples.

Note on the slides: the "In practice" version of line 4 puts a bar on every α; only the √(1 − ᾱ_t)
under the ε carries one. ``tests/test_slides.py`` shows the slide's version drifts away from the data.
"""
from __future__ import annotations

import torch

from ..forward import ddpm_mean, q_posterior, x0_from_eps
from ..schedules import Schedule
from ._common import EpsFn, check_prediction, noise, start, timestep_tensor


@torch.no_grad()
def ddpm_sample(eps_fn: EpsFn, x: torch.Tensor, sched: Schedule, *, variance: str = "beta",
                clip_x0: float | None = None, generator: torch.Generator | None = None,
                callback=None) -> torch.Tensor:
    """Run t = T, …, 1 from ``x`` = x_T and return x_0.

    variance: "beta" (σ_t² = β_t) or "beta_tilde" (σ_t² = β̃_t).
    clip_x0:  clamp x̂_0 to [−clip_x0, clip_x0] before taking the posterior mean (images in [−1, 1]);
              None keeps the plain formula above.
    """
    if variance not in ("beta", "beta_tilde"):
        raise ValueError(f"variance must be 'beta' or 'beta_tilde', got {variance!r}")
    if clip_x0 is not None and not clip_x0 > 0:
        raise ValueError(f"clip_x0 must be a positive number or None, got {clip_x0!r}")
    x = start(x)
    var_table = sched.betas if variance == "beta" else sched.posterior_variances
    for i, t in enumerate(range(sched.T, 0, -1)):
        tt = timestep_tensor(t, x)
        eps = check_prediction("eps_fn", eps_fn(x, tt), x)
        x0_hat = x0_from_eps(x, tt, eps, sched)
        if clip_x0 is None:
            mean = ddpm_mean(x, tt, eps, sched)
        else:
            x0_hat = x0_hat.clamp(-clip_x0, clip_x0)
            mean, _ = q_posterior(x0_hat, x, tt, sched)
        if t > 1:
            x = mean + torch.sqrt(sched.at(var_table, t, x)) * noise(x, generator)
        else:
            x = mean
        if callback is not None:
            callback({"i": i, "t": t, "t_next": t - 1, "x": x, "x0_hat": x0_hat, "eps": eps,
                      "last": t == 1})
    return x
