"""Recipes for lesson 12: few-step students of lesson 13's flow-matching model ``mnist-flow`` (the teacher).

* ``mnist-flow-guided`` — guided distillation, stage 1 (Meng et al. 2023): a copy of the teacher that also
  takes the guidance scale w learns the classifier-free-guided x̂_0 (two passes) in one pass.
* ``mnist-pd-8`` → ``-4`` → ``-2`` → ``-1`` — progressive distillation (Salimans & Ho 2022, the lecture's
  Algorithm 2): each round's student starts as its teacher and learns to take one step where the teacher
  takes two (DDIM, which on the straight path is Euler); the teacher of the first round samples with 16 steps.
  The students are conditional (labels from the data, w = 1): the rounds distil the conditional sampler.
* ``mnist-cd`` — consistency distillation (Song et al. 2023, Algorithm 2): f_θ = c_skip x + (1 − c_skip) x̂_0^θ
  around a copy of the teacher, pulled towards the EMA target f_θ⁻ one teacher Heun step closer to the data.

Every teacher is a shipped checkpoint (``DIFFEDU_TEACHER_DIR``: a folder of checkpoints to use instead, e.g. for a
quick test). The consistency target θ⁻ lives beside the run, not in its state: a resumed run restarts it at the
online weights (its memory is 1/(1 − μ) = 20 steps, so a resumed run differs from an uninterrupted one there).
"""
from __future__ import annotations

import copy
import os

import torch

from .. import checkpoint
from ..fewstep.consistency import ConsistencyModel, consistency_distillation_loss, ema_update
from ..fewstep.distill import distill_loss, guided_distill_loss
from ..model import DiffusionModel
from ..train import tensor_batches
from ._setup import Setup

_BASE = dict(family="distill", batch=64, seed=0, save_dtype="float16", ema_decay=0.995, teacher="mnist-flow")
_PD = dict(_BASE, kind="progressive", steps=300, lr=2e-4)
RECIPES = {
    "mnist-flow-guided": dict(_BASE, kind="guided", steps=800, lr=2e-4, w_max=6.0),
    "mnist-pd-8": dict(_PD, teacher_steps=16),
    "mnist-pd-4": dict(_PD, teacher="mnist-pd-8", teacher_steps=8),
    "mnist-pd-2": dict(_PD, teacher="mnist-pd-4", teacher_steps=4),
    "mnist-pd-1": dict(_PD, teacher="mnist-pd-2", teacher_steps=2),
    "mnist-cd": dict(_BASE, kind="consistency", steps=800, lr=1e-4, grid_steps=16, t_min=0.002, sigma_data=0.1,
                     mu=0.95, solver="heun", distance="pseudo-huber"),
}


def teacher_model(name: str) -> DiffusionModel:
    """A recipe's teacher, frozen: the shipped checkpoint, or the file of that name in ``DIFFEDU_TEACHER_DIR``."""
    from ..pretrained import asset_path

    folder = os.environ.get("DIFFEDU_TEACHER_DIR")
    m = checkpoint.load(os.path.join(folder, f"{name}.safetensors") if folder else asset_path(name))
    m.net.eval().requires_grad_(False)
    return m


def _student_net(teacher: DiffusionModel, **changes) -> torch.nn.Module:
    """The teacher's network, copied (with ``changes`` to its config: new inputs start at zero)."""
    net = type(teacher.net)(**{**teacher.net.config, **changes})
    missing, unexpected = net.load_state_dict(teacher.net.state_dict(), strict=False)
    if unexpected or any(not k.startswith("guide.") for k in missing):
        raise ValueError(f"the student's network does not extend the teacher's: missing {missing}, "
                         f"unexpected {unexpected}")
    return net.float().train().requires_grad_(True)


def setup(name: str, r: dict) -> Setup:
    from ..datasets import mnist

    teacher = teacher_model(r["teacher"])
    x, y = mnist.load("train")
    batches = tensor_batches(x, r["batch"], y)
    p, pred, n_cls = teacher.process, teacher.prediction, teacher.num_classes

    def wrap(m):  # the student as a model; the teacher follows it to the training device on the first batch
        if teacher.device != next(m.parameters()).device:
            teacher.to(next(m.parameters()).device)
        return DiffusionModel(m, p, pred, n_cls)
    if r["kind"] == "guided":
        def loss(m, batch, g):
            return guided_distill_loss(wrap(m), teacher, batch[0], batch[1], w_max=r["w_max"], generator=g)

        return Setup(_student_net(teacher, guidance=True), batches, loss, p, pred, n_cls)
    if r["kind"] == "progressive":
        grid = p.grid(r["teacher_steps"])

        def pd_loss(m, batch, g):
            return distill_loss(wrap(m), teacher, batch[0], grid, generator=g, y=batch[1])

        return Setup(_student_net(teacher), batches, pd_loss, p, pred, n_cls)
    grid = torch.linspace(p.t_max, r["t_min"], r["grid_steps"] + 1, dtype=torch.float64)
    consistency = lambda m: ConsistencyModel(wrap(m), p, r["t_min"], r["sigma_data"], n_cls)  # noqa: E731
    target = {}                                    # θ⁻: copied from θ at the first step (and after a resume)

    def cd_loss(m, batch, g):
        if "net" not in target:
            target["net"] = copy.deepcopy(m).eval().requires_grad_(False)
        else:
            ema_update(target["net"], m, r["mu"])   # θ⁻ ← μ θ⁻ + (1 − μ) θ after each optimiser step
        return consistency_distillation_loss(consistency(m), consistency(target["net"]), teacher, batch[0], grid,
                                             solver=r["solver"], generator=g, distance=r["distance"], y=batch[1])

    def save(path, net, meta, dtype):
        return checkpoint.save(path, ConsistencyModel(wrap(net), p, r["t_min"], r["sigma_data"], n_cls),
                               meta=meta, dtype=dtype)

    return Setup(_student_net(teacher), batches, cd_loss, p, pred, n_cls, save=save)
