"""Flow matching and rectified flow: the velocity ODE of the linear interpolant, and one reflow round.

With x_0 the data and x_1 = ε ~ N(0, I), ``processes.Linear`` is the straight path
x_t = (1 − t) x_0 + t x_1 (Lipman et al. 2023; Liu et al. 2023, "Flow Straight and Fast"). Its velocity
dx_t/dt = x_1 − x_0, and the network u_θ(x_t, t) regresses it:

    L_FM = E_{t, x_0, x_1} ‖u_θ(x_t, t) − (x_1 − x_0)‖²       t ~ U(0, 1]

which is ``losses.diffusion_loss(net, x0, Linear(), prediction="velocity")`` (its target
α' x_0 + σ' ε = x_1 − x_0), or ``flow_matching_loss`` below. Sampling integrates dx/dt = u_θ(x, t) from
t = 1 (noise) down to t = 0 (data): ``euler_sample``, ``heun_sample``.

Relation to DDIM: the DDIM step (η = 0) x_s = α_s x̂_0 + σ_s ε̂ is the exact Euler step of the PF-ODE in the
variables (x/α, σ/α). For Linear, with x = (1 − t) x̂_0 + t ε̂ and u = ε̂ − x̂_0,

    x + (s − t) u = (1 − s) x̂_0 + s ε̂ = DDIM(t → s),

so Euler on the velocity ODE IS DDIM with η = 0, step for step (``tests/test_fewstep.py`` checks it).

Reflow (Liu et al. 2023): the trained flow's ODE couples each noise x_1 with its sample x_0 = ODE(x_1). The
independent pairs of L_FM cross each other, so the learned paths curve; retraining on the coupled pairs
(``reflow_pairs``, ``reflow_loss``) gives straighter paths, which Euler follows with few steps.
``straightness`` measures how straight a sampler's paths are: path length over chord, 1 for a straight line.
"""
from __future__ import annotations

import torch

from ._checks import check_batched, check_finite, check_int
from ._random import randn
from .losses import targets
from .processes import Linear, Process
from .samplers import probability_flow_ode
from .samplers._common import check_model, grid_of


def euler_sample(model, x: torch.Tensor, grid=50, *, callback=None) -> torch.Tensor:
    """Euler on dx/dt = u(x, t) from grid[0] (t = 1: noise) down the decreasing grid (one evaluation a step).

    ``model`` is any diffedu Model (its ``velocity``: a velocity network reads it directly, an ε-, x_0- or
    score model through its process). Tensors of any shape; the callback's keys as every sampler's.
    """
    return probability_flow_ode(model, x, grid_of(model, grid), method="euler", callback=callback)


def heun_sample(model, x: torch.Tensor, grid=50, *, callback=None) -> torch.Tensor:
    """Heun (the trapezoidal rule: Euler, then the average of the velocities at both ends; Karras et al.
    2022) down the decreasing grid, two evaluations a step, second-order accurate.

    A step that lands on σ = 0 (t = 0 for Linear) is taken with Euler, as in Karras et al.: an x_0- or
    score-model has no ε̂ there. So N steps to the data cost 2N − 1 evaluations (the callback's nfe).
    """
    return probability_flow_ode(model, x, grid_of(model, grid), method="heun", callback=callback)


def flow_matching_loss(net, x0: torch.Tensor, x1: torch.Tensor | None = None, *, process: Process | None = None,
                       t: torch.Tensor | None = None, generator: torch.Generator | None = None,
                       **net_kwargs) -> torch.Tensor:
    """E ‖u_θ(x_t, t) − (x_1 − x_0)‖² on the batch, x_t = (1 − t) x_0 + t x_1 (``process``: default ``Linear()``).

    x1: the noise paired with each x_0 — None draws it independently (flow matching); a coupled x_1 (a
        reflow pair) makes this ``reflow_loss``. On another continuous process the target is its velocity
        α'_t x_0 + σ'_t x_1 (``losses.targets``).
    t:  optionally (B,) times; else uniform on (t_clean, t_max].
    """
    process = Linear() if process is None else process
    if not isinstance(process, Process) or process.discrete:
        raise ValueError(f"process must be a continuous diffedu.processes process, got {type(process).__name__}")
    check_batched("x0", x0)
    x1 = randn(x0.shape, x0, generator) if x1 is None else x1
    check_batched("x1", x1)
    if x1.shape != x0.shape:
        raise ValueError(f"x0 and x1 must have the same shape, got {tuple(x0.shape)} and {tuple(x1.shape)}")
    B = x0.shape[0]
    if t is None:
        u = torch.rand((B,), generator=generator, dtype=torch.float64,
                       device=generator.device if generator is not None else x0.device).to(x0.device)
        t = process.t_max - u * (process.t_max - process.t_clean)
    t = process.time_tensor(t, B, x0.device)
    pred = net(process.sample(x0, t, x1), process.net_time(t), **net_kwargs)
    if pred.shape != x0.shape:
        raise ValueError(f"the network returned shape {tuple(pred.shape)}, expected {tuple(x0.shape)}")
    return ((pred - targets(process, x0, x1, t)["velocity"]) ** 2).mean()


def reflow_loss(net, x0: torch.Tensor, x1: torch.Tensor, *, process: Process | None = None,
                t: torch.Tensor | None = None, generator: torch.Generator | None = None, **net_kwargs):
    """Rectified flow on coupled pairs (x_0, x_1) = (ODE(x_1), x_1) from ``reflow_pairs`` (Liu et al. 2023).

    ``train(net, lambda m, b, g: reflow_loss(m, *b, generator=g), tensor_batches(x0, 256, x1), steps=…)``.
    """
    if x1 is None:
        raise ValueError("x1 is required: the noise each x0 was generated from (reflow_pairs)")
    return flow_matching_loss(net, x0, x1, process=process, t=t, generator=generator, **net_kwargs)


@torch.no_grad()
def reflow_pairs(model, n: int, shape, grid=50, *, method: str = "heun", generator: torch.Generator | None = None,
                 batch_size: int = 4096, dtype=torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
    """n coupled pairs (x_0, x_1): noise x_1 from the model's prior and x_0 its ODE solution at grid[-1].

    shape:  one sample's shape, e.g. (2,) or (1, 28, 28).
    method: "heun" or "euler" (``heun_sample`` / ``euler_sample`` on ``grid``).
    The ODE runs on the model's device in batches of ``batch_size``; both tensors come back on the CPU.
    """
    process = check_model(model)
    n = check_int("n", n, low=1)
    batch_size = check_int("batch_size", batch_size, low=1)
    if method not in ("heun", "euler"):
        raise ValueError(f"method must be 'heun' or 'euler', got {method!r}")
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    ts = grid_of(model, grid)
    sample = heun_sample if method == "heun" else euler_sample
    dev = getattr(model, "device", torch.device("cpu"))
    x1 = process.prior((n, *shape), generator, dtype)
    x0 = torch.cat([sample(model, x1[i:i + batch_size].to(dev), ts).cpu() for i in range(0, n, batch_size)])
    return x0, x1


def straightness(trajectories) -> torch.Tensor:
    """How far each path is from a straight line: its length over its chord, one value per path (B,).

        Σ_k ‖x_{k+1} − x_k‖ / ‖x_K − x_0‖      (≥ 1; = 1 exactly when the path is a straight segment)

    the discrete form of ∫‖dx/dt‖ dt / ‖x_0 − x_1‖ along an ODE path from the noise x_1 to the sample x_0.
    An Euler step is a straight segment, so measure the model's own paths on a fine grid (e.g. 50–100 steps
    of ``heun_sample`` with ``samplers.Recorder(every=1, start=x)``): Euler-1 is "straight" by construction.

    trajectories: a (K + 1, B, ...) tensor of states along the path (time first), or a list of K + 1 (B, ...)
                  tensors (a ``Recorder``'s frames). Points and images alike: each state is flattened.
    A path that does not move has straightness 1; one that returns to its start, inf.
    """
    if isinstance(trajectories, (list, tuple)):
        if not trajectories or not all(torch.is_tensor(f) for f in trajectories):
            raise ValueError("trajectories must be a (K + 1, B, ...) tensor or a non-empty list of tensors")
        if any(f.shape != trajectories[0].shape for f in trajectories):
            raise ValueError(f"every state must have the same shape, got "
                             f"{sorted({tuple(f.shape) for f in trajectories})}")
        trajectories = torch.stack([f.detach().cpu() for f in trajectories])
    check_finite("trajectories", trajectories)
    if trajectories.ndim < 2 or trajectories.shape[0] < 2 or trajectories.shape[1] < 1:
        raise ValueError(f"trajectories must have shape (K + 1, B, ...) with K >= 1 steps and B >= 1 paths, got "
                         f"{tuple(trajectories.shape)}")
    path = trajectories.detach().to(torch.float64).flatten(2)                   # (K + 1, B, D)
    length = (path[1:] - path[:-1]).norm(dim=-1).sum(0)                          # (B,)
    chord = (path[-1] - path[0]).norm(dim=-1)
    ratio = length / chord.clamp(min=torch.finfo(torch.float64).tiny)
    return torch.where(chord > 0, ratio, torch.where(length > 0, torch.inf, 1.0))


__all__ = ["euler_sample", "heun_sample", "flow_matching_loss", "reflow_loss", "reflow_pairs", "straightness"]
