"""Samplers for the continuous-time view (Song et al. 2021): reverse SDE and probability-flow ODE.

``score_fn(x, t)`` returns ∇log p_t(x) for a (B,) tensor of times; ``ts`` is the time grid to visit
(e.g. ``diffedu.sde.time_grid(sde, steps)``), decreasing for sampling. The ODE also runs forwards
(increasing ``ts``): that is the encoder, data → noise.
"""
from __future__ import annotations

import math

import torch

from .._checks import check_real
from ._common import check_prediction, noise, start


def _grid(ts) -> list[float]:
    ts = [float(t) for t in torch.as_tensor(ts, dtype=torch.float64).flatten()]
    if len(ts) < 2:
        raise ValueError("ts must hold at least two times")
    if not all(math.isfinite(t) and 0 <= t <= 1 for t in ts):
        raise ValueError("every time in ts must be in [0, 1]")
    d = [b - a for a, b in zip(ts, ts[1:])]
    if not (all(v < 0 for v in d) or all(v > 0 for v in d)):
        raise ValueError("ts must be strictly monotone")
    return ts


def _tt(t: float, x: torch.Tensor) -> torch.Tensor:
    return torch.full((x.shape[0],), t, dtype=x.dtype, device=x.device)


@torch.no_grad()
def reverse_sde_sample(score_fn, x: torch.Tensor, sde, ts, *, corrector_steps: int = 0, snr: float = 0.16,
                       generator=None, callback=None) -> torch.Tensor:
    """Euler–Maruyama on the reverse SDE dx = [f − g² s] dt + g dw̄, from ts[0] down to ts[-1].

    corrector_steps > 0 turns it into a predictor–corrector sampler: after each step, that many Langevin
    steps at the new time with step size 2(snr·‖z‖/‖s‖)² (Song et al. 2021, Algorithm 5; norms averaged
    over the batch). The last step
    returns the mean (no noise added), as Song et al. do.
    """
    ts = _grid(ts)
    if ts[-1] > ts[0]:
        raise ValueError("the reverse SDE runs backwards in time: ts must decrease")
    if corrector_steps < 0:
        raise ValueError(f"corrector_steps must be >= 0, got {corrector_steps}")
    snr = check_real("snr", snr, low=0, low_open=True)
    x = start(x)
    nfe = 0
    for i, (t, s) in enumerate(zip(ts, ts[1:])):
        dt = t - s
        tt = _tt(t, x)
        score = check_prediction("score_fn", score_fn(x, tt), x)
        g = sde.diffusion(tt).reshape(-1, *([1] * (x.ndim - 1)))
        x_mean = x - (sde.drift(x, tt) - g**2 * score) * dt
        last = i == len(ts) - 2
        x = x_mean if last else x_mean + g * math.sqrt(dt) * noise(x, generator)
        nfe += 1
        for _ in range(0 if last else corrector_steps):
            ss = _tt(s, x)
            score = score_fn(x, ss)
            z = noise(x, generator)
            # norms averaged over the batch, as in Song et al.'s code: in low dimension a per-sample
            # ‖z‖/‖s‖ is wildly noisy (‖s‖ → 0 at a mode's centre) and single particles would be flung away
            ratio = z.flatten(1).norm(dim=1).mean() / score.flatten(1).norm(dim=1).mean().clamp(min=1e-12)
            step = 2 * (snr * ratio) ** 2
            x = x + step * score + math.sqrt(2 * step) * z
            nfe += 1
        if callback is not None:
            callback({"i": i, "t": t, "t_next": s, "x": x, "nfe": nfe, "last": last})
    return x


@torch.no_grad()
def probability_flow_ode(score_fn, x: torch.Tensor, sde, ts, *, method: str = "heun",
                         callback=None) -> torch.Tensor:
    """Integrate dx/dt = f − ½ g² s along ``ts`` (either direction) with Euler or Heun's method.

    Heun (the trapezoidal corrector of Karras et al. 2022) costs two score evaluations per step and is
    second-order accurate; Euler costs one.
    """
    if method not in ("euler", "heun"):
        raise ValueError(f"method must be 'euler' or 'heun', got {method!r}")
    ts = _grid(ts)
    x = start(x)

    def velocity(x, t):
        tt = _tt(t, x)
        g = sde.diffusion(tt).reshape(-1, *([1] * (x.ndim - 1)))
        return sde.drift(x, tt) - 0.5 * g**2 * check_prediction("score_fn", score_fn(x, tt), x)

    nfe = 0
    for i, (t, s) in enumerate(zip(ts, ts[1:])):
        h = s - t
        d = velocity(x, t)
        x_euler = x + h * d
        nfe += 1
        if method == "heun":
            x = x + h * 0.5 * (d + velocity(x_euler, s))
            nfe += 1
        else:
            x = x_euler
        if callback is not None:
            callback({"i": i, "t": t, "t_next": s, "x": x, "nfe": nfe, "last": i == len(ts) - 2})
    return x
