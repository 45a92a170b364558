"""One training loop for every lesson: device picked for you, AdamW, EMA weights, a progress bar.

    result = train(model, loss_fn, batches, steps=2000)
    result.ema          # the exponential moving average of the weights: sample with this one
    result.losses       # one float per step, for the loss plot
    train_state.save_training(path, result, step)   # a resumable state (diffedu.train_state)

``loss_fn(model, batch, generator) -> scalar`` decides what is learned (DDPM's L_simple, denoising score
matching, a classifier's cross-entropy…); ``batches(generator) -> batch`` draws a mini-batch on the CPU.

Every run is a function of its seed: the batches, the noise and the dropout masks of step ``t`` come from
seeds mixed from (seed, t, shard), so a resumed run repeats an uninterrupted one without any saved RNG state,
and ``torchrun --nproc-per-node N`` (DistributedDataParallel, one shard per micro-batch per process) computes
what one process with ``micro_batches=N`` does, up to the order of float additions.
"""
from __future__ import annotations

import contextlib
import copy
import hashlib
import math
import os
import time
from dataclasses import dataclass, field

import torch

from ._checks import check_callable, check_int, check_real
from .config import site_mode


def pick_device(prefer: str | None = None) -> torch.device:
    """``prefer`` if given, else CUDA, then Apple's MPS, then the CPU."""
    if prefer is not None:
        try:
            dev = torch.device(prefer)
        except (RuntimeError, TypeError):
            raise ValueError(f"device must be 'cpu', 'cuda', 'cuda:N' or 'mps' (or None for the best available), "
                             f"got {prefer!r}") from None
        if dev.type not in ("cpu", "cuda", "mps"):
            raise ValueError(f"device must be 'cpu', 'cuda', 'cuda:N' or 'mps', got {prefer!r}")
        return dev
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


def progress_bar(steps, show: bool, desc: str = "training"):
    """tqdm's bar over ``steps``: a widget in Jupyter, text elsewhere; none when ``show`` is False or while the
    course site is built or its copies kept (``config.site_mode``: a static page cannot move a bar)."""
    from tqdm.auto import tqdm

    return tqdm(steps, disable=not show or site_mode() is not None, desc=desc, mininterval=0.5)


@dataclass
class TrainResult:
    model: torch.nn.Module
    ema: torch.nn.Module
    losses: list = field(default_factory=list)
    seconds: float = 0.0
    device: str = "cpu"
    optimizer_state: dict | None = None
    rng_state: dict | None = None  # unused: batches and noise follow from (seed, step, shard), see mix()


def tensor_batches(data: torch.Tensor, batch_size: int, *extra: torch.Tensor):
    """Random mini-batches (with replacement) from tensors that share their first dimension."""
    batch_size = check_int("batch_size", batch_size, low=1)
    if not torch.is_tensor(data) or data.ndim < 1 or data.shape[0] == 0:
        raise ValueError(f"data must be a tensor with at least one sample, got shape "
                         f"{tuple(data.shape) if torch.is_tensor(data) else type(data).__name__}")
    if any(e.shape[0] != data.shape[0] for e in extra):
        raise ValueError("the extra tensors must have as many rows as data")
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


def mix(seed: int, step: int, shard: int, stream: str = "batches") -> int:
    """A 63-bit seed for one micro-batch: a hash (BLAKE2b) of (seed, step, shard, stream).

    ``stream`` keeps two uses of one shard apart: "batches" seeds the generator handed to ``batches`` and
    ``loss_fn``, "torch" seeds torch's global RNGs (dropout). With one seed for both, on the CPU the dropout
    masks would be drawn from the very numbers that picked the batch.
    """
    digest = hashlib.blake2b(f"{seed},{step},{shard},{stream}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") & (2**63 - 1)


def _distributed(dev: torch.device) -> tuple[int, int]:
    """(rank, world size): (0, 1) unless torchrun started us (``WORLD_SIZE`` > 1). Joins the process group
    ("nccl" on a GPU, else "gloo") unless the caller already did; it is left open for the caller."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1 or not torch.distributed.is_available():
        return 0, 1
    import torch.distributed as dist

    if not dist.is_initialized():
        dist.init_process_group("nccl" if dev.type == "cuda" else "gloo")
    return dist.get_rank(), dist.get_world_size()


def train(model: torch.nn.Module, loss_fn, batches, *, steps: int, lr: float = 2e-3,
          weight_decay: float = 0.0, ema_decay: float = 0.995, warmup: int = 100,
          lr_schedule: str = "cosine", grad_clip: float | None = 1.0, device: str | None = None,
          seed: int = 0, progress: bool = True, amp_dtype: torch.dtype | None = None,
          channels_last: bool = False, compile_mode: str | None = None, result: TrainResult | None = None,
          start_step: int = 0, on_step=None, on_step_every: int = 1, micro_batches: int = 1) -> TrainResult:
    """Train ``model`` for ``steps`` optimiser steps and return the model, its EMA and the loss history.

    amp_dtype:    e.g. torch.bfloat16 to run forward passes under autocast on a GPU.
    compile_mode: run the forward and backward passes through ``torch.compile`` ("default"; "reduce-overhead"
                  also replays them as CUDA graphs on a GPU). ``result.model`` stays the plain module.
    micro_batches: k batches per step (gradient accumulation): the loss is the mean of their losses, then one
                  optimiser step. Micro-batch j of step t draws with ``mix(seed, t, j)``.
    result / start_step: continue an earlier run (see ``train_state.save_training``): the model, EMA and
                  optimiser state come from ``result``; batches and noise follow from (seed, step, shard), so
                  the continuation draws what an uninterrupted run would have.
    on_step(step, result): called after every ``on_step_every``-th step and after the last (periodic
                  checkpoints, live plots).

    Under ``torchrun --nproc-per-node W`` (``WORLD_SIZE`` > 1) the process group is joined ("nccl" on a GPU,
    each process on ``cuda:LOCAL_RANK``; "gloo" on the CPU) and left open when train() returns: destroying
    it is the caller's. Rank r computes the shards r·k … r·k + k − 1 and DistributedDataParallel averages the
    gradients, so W processes with ``micro_batches=k`` train as one process with ``micro_batches=W·k``. Every
    rank keeps the same EMA; only rank 0 shows the progress bar and calls ``on_step``, but pass the same
    ``on_step`` (or None) everywhere: the losses, averaged over the ranks, are read back at its cadence.

    Losses are read back from the device every 50 steps, not after every step, so that a GPU is never kept
    waiting for Python; a non-finite loss is reported then, with the step it happened at.
    """
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be the network to train (a torch.nn.Module; a DiffusionModel's is .net), got "
                        f"{type(model).__name__}")
    check_callable("loss_fn", loss_fn, "a function (model, batch, generator) -> scalar loss")
    check_callable("batches", batches, "a function generator -> batch (e.g. tensor_batches(data, 128))")
    check_callable("on_step", on_step, "a function (step, result)", optional=True)
    steps = check_int("steps", steps, low=1)
    on_step_every = check_int("on_step_every", on_step_every, low=1)
    micro_batches = check_int("micro_batches", micro_batches, low=1)
    warmup = check_int("warmup", warmup, low=0)
    start_step = check_int("start_step", start_step, low=0)
    seed = check_int("seed", seed)
    check_real("lr", lr, low=0, low_open=True)
    check_real("weight_decay", weight_decay, low=0)
    check_real("ema_decay", ema_decay, low=0, high=1, high_open=True)
    if grad_clip is not None:
        check_real("grad_clip", grad_clip, low=0, low_open=True)
    if lr_schedule not in ("cosine", "constant"):
        raise ValueError(f"lr_schedule must be 'cosine' or 'constant', got {lr_schedule!r}")
    if compile_mode is not None and compile_mode not in COMPILE_MODES:
        raise ValueError(f"compile_mode must be None or one of {COMPILE_MODES}, got {compile_mode!r}")
    dev = pick_device(device)
    if dev.type == "cuda" and int(os.environ.get("WORLD_SIZE", "1")) > 1:
        dev = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(dev)
    rank, world = _distributed(dev)
    model = model.to(dev)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    ddp = None
    if world > 1:  # wrapping broadcasts rank 0's weights, so every rank starts (and stays) identical
        ddp = torch.nn.parallel.DistributedDataParallel(model, device_ids=[dev.index] if dev.type == "cuda" else None)
    step_model = ddp or model
    if compile_mode is not None:
        step_model = torch.compile(step_model, mode=compile_mode)
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
    result.model, result.ema, result.device, result.rng_state = model, ema.model, str(dev), None
    show = progress and rank == 0

    def lr_at(step):
        if step < warmup:
            return lr * (step + 1) / warmup
        if lr_schedule == "constant":
            return lr
        return lr * 0.5 * (1 + math.cos(math.pi * min(1.0, (step - warmup) / max(1, steps - warmup))))

    pending: list[torch.Tensor] = []  # this run's losses not yet copied to the CPU

    def read_losses():  # every rank reads at the same steps: the all-reduce needs them all
        if not pending:
            return
        values = torch.stack(pending)
        pending.clear()
        if world > 1:
            torch.distributed.all_reduce(values)
            values /= world
        for v in values.tolist():
            if not math.isfinite(v):
                raise FloatingPointError(f"loss became {v} at step {len(result.losses)}: lower lr or check the data")
            result.losses.append(v)
        if show:
            bar.set_postfix(loss=f"{sum(result.losses[-50:]) / len(result.losses[-50:]):.4f}")

    model.train()
    t0, seconds_before = time.perf_counter(), result.seconds
    bar = progress_bar(range(start_step, steps), show)
    for step in bar:
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        opt.zero_grad(set_to_none=True)
        step_loss = 0.0
        for j in range(micro_batches):
            shard = rank * micro_batches + j  # the global shard index: the same draws whatever the world size
            if dev.type == "cpu":  # torch.manual_seed also queues a CUDA seeding, with a stack trace: 0.1 ms
                torch.random.default_generator.manual_seed(mix(seed, step, shard, "torch"))
            else:
                torch.manual_seed(mix(seed, step, shard, "torch"))
            gen = torch.Generator().manual_seed(mix(seed, step, shard))
            if compile_mode == "reduce-overhead":
                torch.compiler.cudagraph_mark_step_begin()  # the previous graph's outputs may be overwritten
            batch = _to(batches(gen), dev)
            # DDP all-reduces the gradients in the last micro-batch's backward pass only
            sync = ddp is None or j == micro_batches - 1
            with contextlib.nullcontext() if sync else ddp.no_sync():
                with torch.autocast(dev.type, dtype=amp_dtype, enabled=amp_dtype is not None):
                    loss = loss_fn(step_model, batch, gen)
                (loss / micro_batches).backward()
            step_loss = step_loss + loss.detach().float() / micro_batches
        if grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        opt.step()
        ema.update(model)
        pending.append(step_loss)
        due = on_step is not None and ((step + 1) % on_step_every == 0 or step + 1 == steps)
        if due or len(pending) == 50:
            read_losses()
        if due and rank == 0:
            result.optimizer_state = opt.state_dict()
            result.seconds = seconds_before + time.perf_counter() - t0
            on_step(step + 1, result)
    read_losses()
    result.seconds = seconds_before + time.perf_counter() - t0
    result.optimizer_state = opt.state_dict()
    model.eval()
    return result
