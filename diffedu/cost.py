"""What a network costs on this machine: FLOPs per forward pass, wall time, training throughput (lessons 08–09).

    flops(net, x, t, y)                       floating-point operations of one forward pass (attention included)
    timed(fn, repeats, device)                median wall time of fn() after a warm-up call
    training_throughput(net, loss, batch)     images per second of full training steps (loss, backward, AdamW)
    saved_for_backward(net, x, t, y)          bytes autograd keeps for the backward pass (activation memory)
"""
from __future__ import annotations

import time

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode, sdpa_flop_count

from ._memory import release


def flops(net: torch.nn.Module, *args, **kwargs) -> int:
    """FLOPs of ``net(*args, **kwargs)`` counted by ``torch.utils.flop_counter`` (a multiply-add is 2). The
    CPU's fused attention kernel is not in the counter's table; it is counted here like the others."""
    ops = [getattr(torch.ops.aten, "_scaled_dot_product_flash_attention_for_cpu", None)]
    sdpa = {op: (lambda q, k, v, *a, out_shape=None, **kw: sdpa_flop_count(q, k, v)) for op in ops if op is not None}
    with FlopCounterMode(display=False, custom_mapping=sdpa) as fc, torch.no_grad():
        net(*args, **kwargs)
    return fc.get_total_flops()


def timed(fn, repeats: int = 3, device: torch.device | str = "cpu") -> float:
    """Median seconds of ``fn()`` over ``repeats`` calls, after one warm-up call (CUDA synchronised)."""
    sync = torch.cuda.synchronize if torch.device(device).type == "cuda" else (lambda: None)
    fn()
    times = []
    for _ in range(repeats):
        sync()
        t0 = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def training_throughput(net: torch.nn.Module, loss_fn, batch, steps: int = 3, lr: float = 1e-4) -> float:
    """Images per second of a training step, ``loss_fn(net, batch)`` then backward then AdamW: the median of
    ``steps`` steps after a warm-up. The steps change ``net``'s weights: pass a fresh network, not a shipped one."""
    net.train()
    opt = torch.optim.AdamW(net.parameters(), lr=lr)
    n = (batch[0] if isinstance(batch, (tuple, list)) else batch).shape[0]
    device = next(net.parameters()).device

    def step():
        opt.zero_grad(set_to_none=True)
        loss_fn(net, batch).backward()
        opt.step()
    rate = n / timed(step, steps, device)
    del opt, step      # AdamW's moments and the last step's buffers, then their memory back to the system:
    release()          # a lesson that times five networks in a row keeps ~200 MB less (diffedu/_memory.py)
    return rate


def saved_for_backward(net: torch.nn.Module, *args, **kwargs) -> int:
    """Bytes of the tensors autograd keeps from ``net(*args, **kwargs)`` for the backward pass (each counted
    once; the weights are among them): the activation memory a training step needs."""
    seen = {}

    def pack(t):
        seen[(t.data_ptr(), t.shape, t.dtype)] = t.numel() * t.element_size()
        return t
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = net(*args, **kwargs)
        (out[0] if isinstance(out, tuple) else out).sum()
    return sum(seen.values())
