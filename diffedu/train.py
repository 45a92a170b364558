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
        # e.lerp_(p, 1 − d) for every parameter, as one batched call (a GPU launches a few kernels, not hundreds)
        torch._foreach_lerp_(list(self.model.parameters()), [p.detach() for p in model.parameters()], 1 - d)
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
    rng_state: dict | None = None  # the batch generator's and torch's RNG states: a resumed run repeats the original


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


COMPILE_MODES = ("default", "reduce-overhead", "max-autotune")  # torch.compile's modes that train() accepts


def train(model: torch.nn.Module, loss_fn, batches, *, steps: int, lr: float = 2e-3,
          weight_decay: float = 0.0, ema_decay: float = 0.995, warmup: int = 100,
          lr_schedule: str = "cosine", grad_clip: float | None = 1.0, device: str | None = None,
          seed: int = 0, progress: bool = True, amp_dtype: torch.dtype | None = None,
          channels_last: bool = False, compile_mode: str | None = None, result: TrainResult | None = None,
          start_step: int = 0, on_step=None, on_step_every: int = 1) -> TrainResult:
    """Train ``model`` for ``steps`` optimiser steps and return the model, its EMA and the loss history.

    amp_dtype:    e.g. torch.bfloat16 to run forward passes under autocast on a GPU.
    compile_mode: run the forward and backward passes through ``torch.compile`` ("default"; "reduce-overhead"
                  also replays them as CUDA graphs on a GPU). ``result.model`` stays the plain module.
    result / start_step: continue an earlier run (see ``checkpoint.save_training``); with its RNG states saved,
                  the continuation draws the same batches and noise as an uninterrupted run would have.
    on_step(step, result): called after every ``on_step_every``-th step and after the last (periodic
                  checkpoints, live plots).

    Losses are read back from the device every 50 steps, not after every step, so that a GPU is never kept
    waiting for Python; a non-finite loss is reported then, with the step it happened at.
    """
    steps = check_int("steps", steps, low=1)
    on_step_every = check_int("on_step_every", on_step_every, low=1)
    check_real("lr", lr, low=0, low_open=True)
    if lr_schedule not in ("cosine", "constant"):
        raise ValueError(f"lr_schedule must be 'cosine' or 'constant', got {lr_schedule!r}")
    if compile_mode is not None and compile_mode not in COMPILE_MODES:
        raise ValueError(f"compile_mode must be None or one of {COMPILE_MODES}, got {compile_mode!r}")
    from tqdm.auto import tqdm

    dev = pick_device(device)
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed + start_step)
    if result is not None and result.rng_state:
        gen.set_state(result.rng_state["batches"])
        torch.set_rng_state(result.rng_state["torch"])
        if dev.type == "cuda" and "cuda" in result.rng_state:
            torch.cuda.set_rng_state(result.rng_state["cuda"], dev)
    model = model.to(dev)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    step_model = model if compile_mode is None else torch.compile(model, mode=compile_mode)
    # fused: one kernel for the whole update on a GPU; the CPU keeps the default loop
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay, fused=dev.type == "cuda" or None)
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

    pending: list[torch.Tensor] = []  # this run's losses not yet copied to the CPU

    def read_losses():
        if not pending:
            return
        values = torch.stack(pending).tolist()
        pending.clear()
        for v in values:
            if not math.isfinite(v):
                raise FloatingPointError(f"loss became {v} at step {len(result.losses)}: lower lr or check the data")
            result.losses.append(v)
        if progress:
            bar.set_postfix(loss=f"{sum(result.losses[-50:]) / len(result.losses[-50:]):.4f}")

    def rng_state():
        state = {"batches": gen.get_state(), "torch": torch.get_rng_state()}
        if dev.type == "cuda":
            state["cuda"] = torch.cuda.get_rng_state(dev)
        return state

    model.train()
    t0, seconds_before = time.perf_counter(), result.seconds
    bar = tqdm(range(start_step, steps), disable=not progress, desc="training", mininterval=0.5)
    for step in bar:
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        if compile_mode == "reduce-overhead":
            torch.compiler.cudagraph_mark_step_begin()  # the previous step's graph outputs may be overwritten
        batch = _to(batches(gen), dev)
        with torch.autocast(dev.type, dtype=amp_dtype, enabled=amp_dtype is not None):
            loss = loss_fn(step_model, batch, gen)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        opt.step()
        ema.update(model)
        pending.append(loss.detach().float())
        call = on_step is not None and ((step + 1) % on_step_every == 0 or step + 1 == steps)
        if call or len(pending) == 50:
            read_losses()
        if call:
            result.optimizer_state, result.rng_state = opt.state_dict(), rng_state()
            result.seconds = seconds_before + time.perf_counter() - t0
            on_step(step + 1, result)
    read_losses()
    result.seconds = seconds_before + time.perf_counter() - t0
    result.optimizer_state, result.rng_state = opt.state_dict(), rng_state()
    model.eval()
    return result
