"""Flow matching and rectified flow: the velocity ODE of the linear interpolant, and one reflow round.

With x_0 the data and x_1 = ε ~ N(0, I), ``processes.Linear`` is the straight path
x_t = (1 − t) x_0 + t x_1 (Lipman et al. 2023; Liu et al. 2023, "Flow Straight and Fast"). Its velocity
dx_t/dt = x_1 − x_0, and the network u_θ(x_t, t) regresses it:

    L_FM = E_{t, x_0, x_1} ‖u_θ(x_t, t) − (x_1 − x_0)‖²       t ~ U(0, 1]

which is ``losses.diffusion_loss(net, x0, Linear(), prediction="velocity")`` (its target
α' x_0 + σ' ε = x_1 − x_0), or ``flow_matching_loss`` below. Sampling integrates dx/dt = u_θ(x, t) from
t = 1 (noise) down to t = 0 (data): ``samplers.euler_sample``, ``samplers.heun_sample`` (the PF-ODE's two methods).

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

from .._checks import check_batched, check_finite, check_float_dtype, check_int, check_same_shape, check_shape
from .._random import randn
from ..losses import diffusion_loss
from ..processes import Linear, Process
from ..samplers import check_model, euler_sample, grid_of, heun_sample


def flow_matching_loss(net, x0: torch.Tensor, x1: torch.Tensor | None = None, *, process: Process | None = None,
                       t: torch.Tensor | None = None, generator: torch.Generator | None = None,
                       **net_kwargs) -> torch.Tensor:
    """E ‖u_θ(x_t, t) − (x_1 − x_0)‖² on the batch, x_t = (1 − t) x_0 + t x_1 (``process``: default ``Linear()``).

    x1: the noise paired with each x_0 — None draws it independently (flow matching); a coupled x_1 (a
        reflow pair) makes this ``reflow_loss``. On another continuous process the target is its velocity
        α'_t x_0 + σ'_t x_1 (``losses.targets``).
    t:  optionally (B,) times; else uniform on (t_clean, t_max].
    It is ``losses.diffusion_loss(prediction="velocity", noise=x1)``: flow matching is diffusion training with
    the velocity as the target (x1 is drawn first, so a seed gives the same batches as before the two were one).
    """
    process = Linear() if process is None else process
    if not isinstance(process, Process) or process.discrete:
        raise ValueError(f"process must be a continuous diffedu.processes process, got {type(process).__name__}")
    check_batched("x0", x0)
    if x1 is None:
        x1 = randn(x0.shape, x0, generator)
    else:                                       # a given x1 (a drawn one needs no check)
        check_batched("x1", x1)
        check_same_shape("x0", x0, "x1", x1)
    return diffusion_loss(net, x0, process, prediction="velocity", t=t, noise=x1, generator=generator, **net_kwargs)


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
    shape = check_shape("shape", shape)
    check_float_dtype("dtype", dtype)
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
    if not torch.is_tensor(trajectories) and not isinstance(trajectories, (list, tuple)):
        raise ValueError(f"trajectories must be a (K + 1, B, ...) tensor or a list of tensors, got "
                         f"{type(trajectories).__name__}")
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


__all__ = ["flow_matching_loss", "reflow_loss", "reflow_pairs", "straightness"]
