"""One training loop for every lesson: device picked for you, AdamW, EMA weights, a progress bar.

    result = train(model, loss_fn, batches, steps=2000)
    result.ema          # the exponential moving average of the weights: sample with this one
    result.losses       # one float per step, for the loss plot

``loss_fn(model, batch, generator) -> scalar`` decides what is learned (DDPM's L_simple, denoising score
matching, a classifier's cross-entropy…); ``batches(generator) -> batch`` draws a mini-batch on the CPU.
"""
from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field

import torch

from ._checks import check_int, check_real


def pick_device(prefer: str | None = None) -> torch.device:
    """``prefer`` if given, else CUDA, then Apple's MPS, then the CPU."""
    if prefer is not None:
        return torch.device(prefer)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


class EMA:
    """θ_ema ← decay · θ_ema + (1 − decay) · θ after every step (with a warm-up so early steps count)."""

    def __init__(self, model: torch.nn.Module, decay: float = 0.999):
        self.decay = check_real("decay", decay, low=0, high=1, high_open=True)
        self.model = copy.deepcopy(model).eval().requires_grad_(False)
        self.updates = 0

    @torch.no_grad()
    def update(self, model: torch.nn.Module) -> None:
        self.updates += 1
        d = min(self.decay, (1 + self.updates) / (10 + self.updates))
        for e, p in zip(self.model.parameters(), model.parameters()):
            e.lerp_(p.detach(), 1 - d)
        for e, b in zip(self.model.buffers(), model.buffers()):
            e.copy_(b)


@dataclass
class TrainResult:
    model: torch.nn.Module
    ema: torch.nn.Module
    losses: list = field(default_factory=list)
    seconds: float = 0.0
    device: str = "cpu"
    optimizer_state: dict | None = None


def tensor_batches(data: torch.Tensor, batch_size: int, *extra: torch.Tensor):
    """Random mini-batches (with replacement) from tensors that share their first dimension."""
    batch_size = check_int("batch_size", batch_size, low=1)
    n = data.shape[0]

    def draw(generator):
        idx = torch.randint(0, n, (batch_size,), generator=generator)
        return data[idx] if not extra else (data[idx], *(e[idx] for e in extra))

    return draw


def _to(batch, device):
    if torch.is_tensor(batch):
        return batch.to(device, non_blocking=True)
    return type(batch)(_to(b, device) for b in batch)


def train(model: torch.nn.Module, loss_fn, batches, *, steps: int, lr: float = 2e-3,
          weight_decay: float = 0.0, ema_decay: float = 0.995, warmup: int = 100,
          lr_schedule: str = "cosine", grad_clip: float | None = 1.0, device: str | None = None,
          seed: int = 0, progress: bool = True, amp_dtype: torch.dtype | None = None,
          channels_last: bool = False, result: TrainResult | None = None, start_step: int = 0,
          on_step=None) -> TrainResult:
    """Train ``model`` for ``steps`` optimiser steps and return the model, its EMA and the loss history.

    amp_dtype: e.g. torch.bfloat16 to run forward passes under autocast on a GPU.
    result / start_step: continue an earlier run (see ``checkpoint.save_training``).
    on_step(step, result): called after every step (periodic checkpoints, live plots).
    """
    steps = check_int("steps", steps, low=1)
    check_real("lr", lr, low=0, low_open=True)
    if lr_schedule not in ("cosine", "constant"):
        raise ValueError(f"lr_schedule must be 'cosine' or 'constant', got {lr_schedule!r}")
    from tqdm.auto import tqdm

    dev = pick_device(device)
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed + start_step)
    model = model.to(dev)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    ema = EMA(model, ema_decay)
    if result is None:
        result = TrainResult(model, ema.model)
    else:
        ema.model.load_state_dict(result.ema.state_dict())
        ema.updates = start_step
        if result.optimizer_state:
            opt.load_state_dict(result.optimizer_state)
    result.model, result.ema, result.device = model, ema.model, str(dev)

    def lr_at(step):
        if step < warmup:
            return lr * (step + 1) / warmup
        if lr_schedule == "constant":
            return lr
        return lr * 0.5 * (1 + math.cos(math.pi * min(1.0, (step - warmup) / max(1, steps - warmup))))

    model.train()
    t0 = time.perf_counter()
    bar = tqdm(range(start_step, steps), disable=not progress, desc="training", mininterval=0.5)
    for step in bar:
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        batch = _to(batches(gen), dev)
        with torch.autocast(dev.type, dtype=amp_dtype, enabled=amp_dtype is not None):
            loss = loss_fn(model, batch, gen)
        if not torch.isfinite(loss):
            raise FloatingPointError(f"loss became {loss.item()} at step {step}: lower lr or check the data")
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        opt.step()
        ema.update(model)
        result.losses.append(loss.item())
        if progress and step % 50 == 0:
            bar.set_postfix(loss=f"{sum(result.losses[-50:]) / len(result.losses[-50:]):.4f}")
        if on_step is not None:
            result.optimizer_state = opt.state_dict()
            on_step(step + 1, result)
    result.seconds += time.perf_counter() - t0
    result.optimizer_state = opt.state_dict()
    model.eval()
    return result
