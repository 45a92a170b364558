"""Checkers for lesson 13 (flow matching): the regression target on the linear path, one Euler step of the
velocity ODE, and reflow's coupled pairs. Time runs as in the lecture: t = 0 is the data x_0, t = 1 the noise
x_1 = ε."""
from __future__ import annotations

import torch

from ..losses import targets
from ..processes import Linear
from ._check import run_check


def _gen():
    return torch.Generator().manual_seed(13)


def flow_target(x0: torch.Tensor, x1: torch.Tensor, t: torch.Tensor):
    """The reference: (x_t, u) with x_t = (1 − t) x_0 + t x_1 and u = dx_t/dt = x_1 − x_0 (t: (B,)), as the
    library computes them (``Linear().sample`` and the velocity of ``losses.targets``)."""
    process = Linear()
    return process.q_sample(x0, t, x1), targets(process, x0, x1, t)["velocity"]


def check_flow_target(fn, strict: bool = False):
    """fn(x0, x1, t) → (x_t, target): the point on the straight path at time t (a (B,) tensor) and what the
    network u_θ(x_t, t) regresses on, the path's velocity dx_t/dt. The cases are 2-D points and small images:
    broadcast t with ``t.reshape(-1, *[1] * (x0.ndim - 1))``."""
    g = _gen()
    cases = []
    for shape in ((8, 2), (4, 1, 3, 3)):
        x0 = torch.randn(shape, generator=g, dtype=torch.float64) + 2.0   # data away from 0: x_0 and ε tell apart
        x1 = torch.randn(shape, generator=g, dtype=torch.float64)
        cases.append((x0, x1, 0.05 + 0.9 * torch.rand(shape[0], generator=g, dtype=torch.float64)))

    def variant(path=None, target=None):
        def f(x0, x1, t):
            xt, u = flow_target(x0, x1, t)
            tc = t.reshape(-1, *([1] * (x0.ndim - 1)))
            return (xt if path is None else path(x0, x1, tc)), (u if target is None else target(x0, x1, tc))
        return f

    mistakes = [
        ("the sign of the target is flipped: u is the time derivative dx_t/dt = x_1 − x_0 (t grows from the data "
         "at 0 to the noise at 1). The sampler runs t downwards, and that is where the minus sign of a step towards "
         "the data comes from (h = s − t < 0).", variant(target=lambda x0, x1, t: x0 - x1)),
        ("your path runs the other way: x_t = t x_0 + (1 − t) x_1 puts the data at t = 1 (the convention of "
         "Lipman et al. and of several libraries). Here, as in the lecture, t = 0 is the data and t = 1 the noise: "
         "x_t = (1 − t) x_0 + t x_1.", variant(path=lambda x0, x1, t: t * x0 + (1 - t) * x1)),
        ("your path runs the other way (data at t = 1) and the target with it: both are right for that "
         "convention, but here t = 0 is the data: x_t = (1 − t) x_0 + t x_1, target x_1 − x_0.",
         variant(path=lambda x0, x1, t: t * x0 + (1 - t) * x1, target=lambda x0, x1, t: x0 - x1)),
        ("the target is the noise x_1 (ε-prediction): flow matching regresses the velocity x_1 − x_0.",
         variant(target=lambda x0, x1, t: x1)),
        ("the target is the data x_0: flow matching regresses the velocity x_1 − x_0.",
         variant(target=lambda x0, x1, t: x0)),
        ("the target is x_1 − x_t = (1 − t)(x_1 − x_0): the velocity of a straight path is the same at every t, "
         "the whole displacement x_1 − x_0.", variant(target=lambda x0, x1, t: x1 - ((1 - t) * x0 + t * x1))),
        ("your path has square roots, √(1 − t) x_0 + √t x_1 (a variance-preserving path, like DDPM's): flow "
         "matching's path is the straight line x_t = (1 − t) x_0 + t x_1.",
         variant(path=lambda x0, x1, t: (1 - t).sqrt() * x0 + t.sqrt() * x1)),
    ]
    return run_check("flow-matching target (x_t, u)", fn, flow_target, cases, mistakes, strict)


def euler_step(x: torch.Tensor, t: float, s: float, velocity) -> torch.Tensor:
    """The reference: x_s = x_t + (s − t) · u(x_t, t), one Euler step of dx/dt = u from t to s."""
    return x + (s - t) * velocity(x, t)


def _field(x, t):
    """A smooth stand-in for a trained u_θ: any function of (x, t) does for checking a step."""
    return torch.sin(x) * (1 + t) + 0.5 * x - 0.3 * t


def check_euler_step(fn, strict: bool = False):
    """fn(x, t, s, velocity) → x + (s − t) · velocity(x, t): one Euler step of the velocity ODE from time t to
    time s (s < t when sampling towards the data). ``velocity(x, t)`` is the network's u_θ."""
    g = _gen()
    cases = [(torch.randn(6, 2, generator=g, dtype=torch.float64) * 2, t, s, _field)
             for t, s in ((0.6, 0.5), (1.0, 0.75), (0.3, 0.0))]
    mistakes = [
        ("the step goes the wrong way in time: going from t down to s < t, the step size h = s − t is negative, "
         "so x_s = x_t + (s − t)·u = x_t − |h|·u. You added |h|·u and moved towards the noise.",
         lambda x, t, s, u: x + (t - s) * u(x, t)),
        ("you evaluated the velocity at the end time s: explicit Euler uses the slope where the step starts, "
         "u(x_t, t) (a slope at the far end is what Heun's corrector adds, evaluated at the Euler guess).",
         lambda x, t, s, u: x + (s - t) * u(x, s)),
        ("the step size is missing: x_s = x_t + (s − t)·u(x_t, t), not x_t − u(x_t, t).",
         lambda x, t, s, u: x - u(x, t)),
        ("you took a whole step to t = 0 (x_t − t·u, the one-step estimate of the data): step to s, "
         "x_t + (s − t)·u.", lambda x, t, s, u: x - t * u(x, t)),
    ]
    return run_check("Euler step of dx/dt = u(x, t)", fn, euler_step, cases, mistakes, strict)


def reflow_pairs(velocity, x1: torch.Tensor, steps: int):
    """The reference: (x_0, x_1) with x_0 the Euler solution of dx/dt = u(x, t) from the noise x_1 at t = 1 down to
    t = 0 on ``steps`` equal steps — what ``fewstep.reflow_pairs(model, n, shape, grid=steps, method="euler")``
    returns for the noise it draws."""
    ts = torch.linspace(1, 0, steps + 1, dtype=torch.float64).tolist()
    x = x1
    for t, s in zip(ts[:-1], ts[1:]):
        x = euler_step(x, t, s, velocity)
    return x, x1


def check_reflow_pairs(fn, strict: bool = False):
    """fn(velocity, x1, steps) → (x0, x1): the 1-rectified flow's coupling of the noise x1 (B, …) with its sample,
    x0 the Euler solution of dx/dt = velocity(x, t) from t = 1 down to t = 0 in ``steps`` equal steps (t a float),
    and x1 the same noise it started from — the pairs reflow trains on."""
    g = _gen()
    cases = [(_field, torch.randn(shape, generator=g, dtype=torch.float64), steps)
             for shape, steps in (((8, 2), 4), ((3, 1, 3, 3), 5))]

    def euler(x1, steps, slope_at_end=False, grid=None, sign=1.0):
        ts = (torch.linspace(1, 0, steps + 1) if grid is None else grid).double().tolist()
        x = x1
        for t, s in zip(ts[:-1], ts[1:]):
            x = x + sign * (s - t) * _field(x, s if slope_at_end else t)
        return x

    mistakes = [
        ("the pair is the wrong way round: return (x_0, x_1), the data end first, as `reflow_loss(net, x0, x1)` and "
         "`fewstep.reflow_pairs` take it.", lambda u, x1, k: (euler(x1, k), x1)[::-1]),
        ("your x_1 is the end point: the noise was overwritten in place (x = x1 followed by x += …, or x1 itself "
         "updated). Keep the noise: start from a copy, x = x1.clone(), or write x = x + h·u.",
         lambda u, x1, k: (euler(x1, k), euler(x1, k))),
        ("the steps go the wrong way in time: from t down to s < t the step is x + (s − t)·u = x − |h|·u; you "
         "added |h|·u and moved away from the data.", lambda u, x1, k: (euler(x1, k, sign=-1.0), x1)),
        ("one step, whatever `steps` says: x_1 − u(x_1, 1) is Euler-1; take `steps` steps of size 1/steps.",
         lambda u, x1, k: (euler(x1, 1), x1)),
        ("your grid has steps − 1 intervals: `steps` Euler steps need steps + 1 times, torch.linspace(1, 0, steps + 1).",
         lambda u, x1, k: (euler(x1, k, grid=torch.linspace(1, 0, k)), x1)),
        ("you evaluated the velocity at the end of each step: explicit Euler uses the slope where the step starts, "
         "u(x_t, t).", lambda u, x1, k: (euler(x1, k, slope_at_end=True), x1)),
    ]
    safe = lambda u, x1, k: fn(u, x1.clone(), k)  # noqa: E731  (a student's in-place update must not spoil the case)
    return run_check("reflow pairs (x_0, x_1)", safe, reflow_pairs, cases, mistakes, strict)
