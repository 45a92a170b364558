"""Progressive distillation — Salimans & Ho 2022, the lecture's Algorithm 2, in continuous time.

A teacher that samples with 2N DDIM steps (η = 0) teaches a student to take N: one student step t → t''
must land where two teacher steps t → t' → t'' land. With x_t = α_t x_0 + σ_t ε and the DDIM step
written through x̂_0 (ε̂ = (z_t − α_t x̂_0)/σ_t),

    z_{t''} = α_{t''} x̂_0 + σ_{t''} ε̂ = (α_{t''} − (σ_{t''}/σ_t) α_t) x̂_0 + (σ_{t''}/σ_t) z_t,

so the x_0 that makes the student's single step land on the teachers' two-step result z'' is

    x̃ = (z'' − (σ_{t''}/σ_t) z_t) / (α_{t''} − (σ_{t''}/σ_t) α_t)                  (Algorithm 2, line 9)

and the student minimises w(λ_t) ‖x̃ − x̂_0(z_t)‖² with "truncated SNR" weighting w = max(SNR_t, 1),
SNR_t = e^{λ_t} = α_t²/σ_t². Repeating the round halves N each time (student := copy of the teacher).
Salimans & Ho use a v- or x_0-predicting network on the cosine process (``CosineVP``): an ε-network cannot
give x̂_0 = (z − σ ε̂)/α where α → 0, and few-step students start exactly there.

``guided_target`` is the first stage of guided distillation (Meng et al. 2023): a student that sees the
guidance scale w learns the teacher's classifier-free-guided x̂_0 at that w, in one network pass.
"""
from __future__ import annotations

import copy

import torch

from .._checks import check_batched, check_real, check_scale
from .._random import randint, randn, uniform
from ..losses import truncated_snr
from ..model import DiffusionModel, Model, conditioned, takes_guidance
from ..processes import column
from ..samplers import check_model, ddim_model_step, grid_of
from ..train import pick_device, train


def _times(process, t, x: torch.Tensor, name: str = "t") -> torch.Tensor:
    return process.time_tensor(t, x.shape[0], x.device, name=name)


@torch.no_grad()
def distill_target(teacher: Model, z_t: torch.Tensor, t, t_mid, t_next, y=None) -> torch.Tensor:
    """x̃: the x_0 for which ONE DDIM step t → t_next from z_t lands where the teacher's TWO steps
    t → t_mid → t_next land (t, t_mid, t_next: numbers or (B,) tensors, t > t_mid > t_next).

    y: labels for a class-conditional teacher (``teacher.given(y)``); pass ``teacher.given(y, w)`` as the
    teacher to distil a guided sampler.
    """
    process = check_model(teacher)
    check_batched("z_t", z_t)
    tt, tm, tn = (_times(process, v, z_t, name) for v, name in ((t, "t"), (t_mid, "t_mid"), (t_next, "t_next")))
    if not ((tt > tm).all() and (tm > tn).all()):
        raise ValueError("t, t_mid and t_next must be decreasing: t > t_mid > t_next (the grid runs towards the data)")
    teacher = conditioned(teacher, y)
    z2 = ddim_model_step(teacher, ddim_model_step(teacher, z_t, tt, tm), tm, tn)   # the teacher's two DDIM steps: z''
    a_t, s_t = (column(v, z_t) for v in process.alpha_sigma(tt))
    a_n, s_n = (column(v, z_t) for v in process.alpha_sigma(tn))
    if (s_t == 0).any():
        raise ValueError("t must lie above the data (σ_t > 0): a step cannot start from the clean data")
    r = s_n / s_t
    return (z2 - r * z_t) / (a_n - r * a_t)


def distill_loss(student: Model, teacher: Model, x0: torch.Tensor, grid, *, generator=None, y=None) -> torch.Tensor:
    """One Monte-Carlo estimate of the progressive-distillation loss on the batch x0 (Algorithm 2, lines 4–11).

    grid:  the teacher's 2N + 1 decreasing times (its 2N DDIM steps; e.g. ``process.grid(2 * N)``), or the
           even int 2N. The student's steps are grid[2i] → grid[2i + 2], i = 0 … N − 1.
    Each sample draws its own i uniformly, then z_t = α_t x_0 + σ_t ε at t = grid[2i]; the target x̃ comes
    from the teacher without gradients, and the loss is mean_b max(SNR_t, 1) · mean_d (x̃ − x̂_0)².
    """
    check_batched("x0", x0)
    ts = grid_of(teacher, grid)
    if len(ts) % 2 == 0:
        raise ValueError(f"grid must hold an odd number 2N + 1 of times (the teacher's 2N steps), got {len(ts)}")
    if student.process != teacher.process:
        raise ValueError(f"the student's process {student.process.spec()} differs from the teacher's "
                         f"{teacher.process.spec()}")
    process = teacher.process
    g = torch.tensor(ts, dtype=torch.long if process.discrete else torch.float64, device=x0.device)
    i = randint(0, (len(ts) - 1) // 2, (x0.shape[0],), x0, generator)      # the student's step, per sample
    t, t_mid, t_next = g[2 * i], g[2 * i + 1], g[2 * i + 2]
    z_t = process.q_sample(x0, t, randn(x0.shape, x0, generator))
    target = distill_target(teacher, z_t, t, t_mid, t_next, y)
    x0_hat = conditioned(student, y).x0(z_t, _times(process, t, x0))
    w = truncated_snr(process, t).to(x0.dtype)                            # max(SNR_t, 1)
    return (w * ((target - x0_hat) ** 2).flatten(1).mean(1)).mean()


def distill_round(teacher: Model, batches, grid, *, steps: int, student: DiffusionModel | None = None,
                  y_in_batch: bool = False, **train_kwargs):
    """One round of progressive distillation: train a student for ``steps`` on the 2N-step teacher.

    batches:   ``batches(generator) -> x0`` (or ``-> (x0, y)`` with ``y_in_batch=True``), e.g. ``tensor_batches``.
    grid:      the teacher's 2N + 1 times; the student's N + 1 are ``grid[::2]``.
    student:   the DiffusionModel to train; default a copy of the teacher (Salimans & Ho's initialisation;
               the teacher must then be a DiffusionModel). Neither the teacher nor ``student`` is changed:
               training runs on copies.
    train_kwargs: passed to ``diffedu.train`` (lr, ema_decay, seed, progress, device, …).
    Returns (the student with the EMA weights, its grid, the ``TrainResult``). A next round passes
    the returned student as the teacher with the returned grid.
    """
    ts = grid_of(teacher, grid)
    if len(ts) % 2 == 0:
        raise ValueError(f"grid must hold an odd number 2N + 1 of times (the teacher's 2N steps), got {len(ts)}")
    if student is None:
        if not isinstance(teacher, DiffusionModel):
            raise ValueError("student is required when the teacher is not a DiffusionModel (nothing to copy)")
        student = teacher
    if not isinstance(student, DiffusionModel):
        raise ValueError(f"student must be a diffedu DiffusionModel, got {type(student).__name__}")
    dev = pick_device(train_kwargs.get("device"))
    if isinstance(teacher, DiffusionModel):                       # a frozen copy on the training device
        teacher = DiffusionModel(copy.deepcopy(teacher.net).to(dev).eval().requires_grad_(False), teacher.process,
                                 teacher.prediction, teacher.num_classes, teacher.meta)
    net = copy.deepcopy(student.net).train().requires_grad_(True)  # a returned student is frozen EMA weights

    def loss_fn(m, batch, gen):
        x0, y = batch if y_in_batch else (batch, None)
        s = DiffusionModel(m, student.process, student.prediction, student.num_classes, student.meta)
        return distill_loss(s, teacher, x0, ts, generator=gen, y=y)

    result = train(net, loss_fn, batches, steps=steps, **train_kwargs)
    meta = {**student.meta, "distilled_steps": (len(ts) - 1) // 2}
    out = DiffusionModel(result.ema, student.process, student.prediction, student.num_classes, meta)
    return out, torch.tensor(ts[::2], dtype=torch.long if teacher.process.discrete else torch.float64), result


@torch.no_grad()
def guided_target(teacher: Model, x: torch.Tensor, t, y, w) -> torch.Tensor:
    """The classifier-free-guided teacher's x̂_0 at scale w: x̂_∅ + w (x̂_y − x̂_∅) (Meng et al. 2023, stage 1).

    This project's convention (``model.given(y, w)``): w = 0 is the unconditional teacher, w = 1 the
    conditional one (Meng et al.'s w is ours minus 1). w may be a number or a (B,) tensor — a w-conditioned
    student is trained on a different w per sample. At w = 0 and w = 1 the target is exactly that teacher's.
    The target is ``teacher.given(y, w)``'s x̂_0: the combination is affine in the prediction, so guiding the
    network's output and converting it to x̂_0 is x̂_∅ + w (x̂_y − x̂_∅).
    """
    check_model(teacher)
    check_batched("x", x)
    return teacher.given(y, check_scale("w", w, x.shape[0])).x0(x, _times(teacher.process, t, x))


def guided_distill_loss(student: Model, teacher: Model, x0: torch.Tensor, y: torch.Tensor, *, w_max: float = 6.0,
                        generator=None) -> torch.Tensor:
    """Stage 1 of guided distillation (Meng et al. 2023) on the batch (x0, y): a student whose network takes w
    (``models.UNet(guidance=True)``) learns, in ONE pass, the guided teacher's x̂_0 at that w (two passes).

    Each sample draws w ~ U[0, w_max] and t ~ U(t_clean, t_max]; the loss is
    mean_b max(SNR_t, 1) · mean_d (x̂_0^student(z_t; y, w) − x̂_0^teacher(z_t; y, w))², the truncated-SNR
    weight of ``distill_loss``. ``student.given(y, w)`` then samples with any sampler at one pass a step.
    """
    check_batched("x0", x0)
    process = check_model(teacher)
    if student.process != process:
        raise ValueError(f"the student's process {student.process.spec()} differs from the teacher's {process.spec()}")
    if not takes_guidance(student):
        raise ValueError("student must take w as an input (a network built with guidance=True)")
    w_max = check_real("w_max", w_max, low=0, low_open=True)
    t = process.sample_t(x0.shape[0], x0, generator)                        # (t_clean, t_max]
    w = uniform((x0.shape[0],), x0, generator) * w_max                      # [0, w_max)
    z_t = process.q_sample(x0, t, randn(x0.shape, x0, generator))
    target = guided_target(teacher, z_t, t, y, w)
    x0_hat = student.given(y, w).x0(z_t, t)                                 # one pass, each sample its own w
    weight = truncated_snr(process, t).to(x0.dtype)
    return (weight * ((target - x0_hat) ** 2).flatten(1).mean(1)).mean()


__all__ = ["distill_target", "distill_loss", "distill_round", "guided_target", "guided_distill_loss"]
