"""What fine-tuning costs in memory (lesson 11): full fine-tuning against LoRA against a new word, measured on
training steps of the same network.

A training step with AdamW (Loshchilov & Hutter 2019; Adam's moments, Kingma & Ba 2015) holds, besides the
frozen weights W:

    gradients     one number per trainable parameter (4 bytes in float32)
    optimiser     Adam's two running moments m and v per trainable parameter: 2 × 4 bytes each
    activations   what autograd keeps from the forward pass for the backward pass — for every layer between the
                  loss and the *first* trainable parameter (a frozen layer needs no weight gradient, but the
                  gradient must still flow through it towards the trainable ones)

LoRA (Hu et al. 2022) shrinks the first two to r (d_in + d_out) numbers per adapted layer; their paper's
saving ("VRAM usage during training from 1.2 TB to 350 GB" on GPT-3 175B) comes from a model whose weights and
optimiser state dwarf its activations. The third term does not shrink with the number of trainable parameters,
only with where the first trainable one sits.

``peak_memory(fn)`` measures the most memory ``fn()`` holds above what was in use when it started: on CUDA
``torch.cuda.max_memory_allocated`` (exact: PyTorch's allocator counts every tensor); on a CPU under Linux the
process's peak resident set (``VmHWM`` in /proc/self/status, reset to the current size through
/proc/self/clear_refs after the C heap's free memory is given back with ``_memory.release``): every page a
tensor touched, and the allocator's own slack — a few MB of noise, so compare methods by repeated runs.
"""
from __future__ import annotations

import gc
from pathlib import Path

import torch

from .._checks import check_callable, check_int, check_real
from .._memory import release
from ..cost import saved_for_backward

_STATUS, _CLEAR = Path("/proc/self/status"), Path("/proc/self/clear_refs")


def _status(key: str) -> int:
    for line in _STATUS.read_text().splitlines():
        name, _, value = line.partition(":")
        if name == key:
            return int(value.split()[0]) * 1024          # the kernel writes kB
    raise KeyError(key)


def _cpu_peak_available() -> bool:
    try:
        _status("VmHWM")
        _CLEAR.write_text("5")                           # 5: reset the peak to the current resident set
        return True
    except (OSError, KeyError, ValueError):
        return False


def peak_memory(fn, device=None) -> tuple[object, int | None]:
    """(fn()'s result, the peak bytes it held above the start): CUDA's allocator peak on a CUDA ``device``, the
    peak resident set on a CPU (Linux); None for the bytes where neither can be read (another OS, no /proc)."""
    check_callable("fn", fn)
    device = torch.device("cpu" if device is None else device)
    gc.collect()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        start = torch.cuda.memory_allocated(device)
        out = fn()
        torch.cuda.synchronize(device)
        return out, torch.cuda.max_memory_allocated(device) - start
    release()
    if device.type != "cpu" or not _cpu_peak_available():
        return fn(), None
    start = _status("VmRSS")
    out = fn()
    return out, max(_status("VmHWM") - start, 0)


def training_memory(net: torch.nn.Module, loss_fn, steps: int = 2, lr: float = 1e-4) -> dict:
    """Train ``net``'s trainable parameters for ``steps`` AdamW steps on ``loss_fn(net)`` (a scalar) and report
    {"trainable": numbers, "weights": bytes of all parameters, "gradients": bytes of the trainable ones' gradients,
    "optimiser": bytes of AdamW's state (m and v; its step counters left out), "saved": bytes autograd keeps for
    the backward pass (``cost.saved_for_backward``; weights a layer saves are among them), "peak": the peak
    bytes above the network alone over the steps (``peak_memory``; None where it cannot be measured)}.
    The steps change ``net``: pass a copy. Two steps, so that the peak includes the optimiser state of the
    second."""
    check_callable("loss_fn", loss_fn)
    steps = check_int("steps", steps, low=1)
    lr = check_real("lr", lr, low=0, low_open=True)
    params = [p for p in net.parameters() if p.requires_grad]
    if not params:
        raise ValueError("net has no trainable parameter (requires_grad): nothing to fine-tune")
    device = params[0].device
    net.train()
    opt = torch.optim.AdamW(params, lr=lr)

    def run():
        for _ in range(steps):
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(net)
            if not torch.is_tensor(loss) or loss.dim() != 0:
                raise ValueError("loss_fn(net) must return a scalar tensor")
            loss.backward()
            opt.step()
    _, peak = peak_memory(run, device)
    gradients = sum(p.grad.numel() * p.grad.element_size() for p in params if p.grad is not None)
    optimiser = sum(t.numel() * t.element_size() for s in opt.state.values() for t in s.values()
                    if torch.is_tensor(t) and t.dim() > 0)    # exp_avg, exp_avg_sq (not the 0-d step)
    opt.zero_grad(set_to_none=True)
    saved = saved_for_backward(loss_fn, net)
    return {"trainable": sum(p.numel() for p in params),
            "weights": sum(p.numel() * p.element_size() for p in net.parameters()),
            "gradients": gradients, "optimiser": optimiser, "saved": saved, "peak": peak}
