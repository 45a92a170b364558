"""LoRA — low-rank adaptation (Hu et al. 2022, "LoRA: Low-Rank Adaptation of Large Language Models").

A frozen layer W x gains a trainable low-rank update:

    h = W x + s · (α / r) · B A x          A (r, d_in) ~ N(0, σ²),  B (d_out, r) = 0,  r ≪ min(d_in, d_out)

B = 0 makes the first forward pass exactly the base model's; only A and B (r (d_in + d_out) numbers per layer)
train and are saved, so a file is tiny; ``s`` is a knob at inference (s = 0 the base model, s = 1 as trained);
``merge`` folds s (α/r) B A into W for free inference and ``unmerge`` takes it out again; several adapters on
one layer add up (h = W x + Σ_i s_i (α_i/r_i) B_i A_i x), which is how two LoRAs are mixed.

For a convolution A is a convolution with the layer's kernel, stride and padding into r channels and B a 1×1
convolution back, so B A has the kernel's shape: merging is W ← W + s (α/r) Σ_j B[:, j] A[j].

``add_lora(net, targets, r, alpha)`` wraps every ``nn.Linear``/``nn.Conv2d`` whose name ends with one of
``targets`` (the naming rule of ``peft.LoraConfig(target_modules=...)``, so the same list selects the same layers
in both libraries). A starts as N(0, σ²) with σ = ``init_std`` (default 1/r) and B = 0; peft draws A from a
Kaiming-uniform law instead — any A works, since B = 0 makes the product zero.
"""
from __future__ import annotations

import torch
from torch import nn

from .._checks import check_int, check_real


class LoRALayer(nn.Module):
    """A frozen ``nn.Linear`` or ``nn.Conv2d`` plus named low-rank adapters (``.adapters[name]`` = (A, B))."""

    def __init__(self, base: nn.Module):
        super().__init__()
        if not isinstance(base, (nn.Linear, nn.Conv2d)):
            raise ValueError(f"LoRA wraps nn.Linear or nn.Conv2d layers, got {type(base).__name__}")
        self.base = base.requires_grad_(False)
        self.A, self.B = nn.ParameterDict(), nn.ParameterDict()
        self.alpha, self.rank, self.scale = {}, {}, {}
        self.merged: dict[str, float] = {}        # adapter → the scale folded into base.weight

    def add(self, name: str, rank: int, alpha: float, init_std: float | None = None,
            generator: torch.Generator | None = None) -> None:
        w = self.base.weight
        if isinstance(self.base, nn.Linear):
            shape_a, shape_b = (rank, w.shape[1]), (w.shape[0], rank)
        else:
            shape_a, shape_b = (rank, *w.shape[1:]), (w.shape[0], rank, 1, 1)
        std = 1.0 / rank if init_std is None else init_std
        a = torch.randn(shape_a, generator=generator, dtype=torch.float32) * std
        self.A[name] = nn.Parameter(a.to(device=w.device, dtype=w.dtype))
        self.B[name] = nn.Parameter(torch.zeros(shape_b, device=w.device, dtype=w.dtype))
        self.alpha[name], self.rank[name], self.scale[name] = float(alpha), rank, 1.0

    def delta(self, name: str) -> torch.Tensor:
        """(α/r) B A, shaped like the base weight."""
        a, b = self.A[name], self.B[name]
        if isinstance(self.base, nn.Linear):
            d = b @ a
        else:
            d = torch.einsum("or,rikl->oikl", b[:, :, 0, 0], a)
        return d * (self.alpha[name] / self.rank[name])

    def forward(self, x):
        out = self.base(x)
        for name in self.A:
            s = self.scale[name] - self.merged.get(name, 0.0)   # what is not already inside base.weight
            if s == 0.0:
                continue
            a, b = self.A[name], self.B[name]
            if isinstance(self.base, nn.Linear):
                low = nn.functional.linear(nn.functional.linear(x, a), b)            # (…, d_out)
            else:
                c = self.base
                low = nn.functional.conv2d(nn.functional.conv2d(x, a, None, c.stride, c.padding, c.dilation), b)
            out = out + (s * self.alpha[name] / self.rank[name]) * low
        return out


def lora_layers(net: nn.Module) -> dict[str, LoRALayer]:
    return {n: m for n, m in net.named_modules() if isinstance(m, LoRALayer)}


def _matches(name: str, targets) -> bool:
    return any(name == t or name.endswith("." + t) for t in targets)


def add_lora(net: nn.Module, targets, rank: int = 4, alpha: float | None = None, name: str = "default",
             init_std: float | None = None, seed: int = 0) -> nn.Module:
    """Give every ``nn.Linear``/``nn.Conv2d`` of ``net`` whose name ends with one of ``targets`` (e.g. ["q", "k"])
    a LoRA adapter ``name`` of rank r and scale α/r (α defaults to r); freeze everything else. Returns ``net``."""
    rank = check_int("rank", rank, low=1)
    alpha = float(rank) if alpha is None else check_real("alpha", alpha, low=0, low_open=True)
    targets = [targets] if isinstance(targets, str) else list(targets)
    if not targets:
        raise ValueError("targets must name at least one layer (e.g. ['q', 'k'])")
    found = [(n, m) for n, m in net.named_modules() if _matches(n, targets)
             and isinstance(m, (nn.Linear, nn.Conv2d, LoRALayer))]
    if not found:
        kinds = sorted({n.rsplit(".", 1)[-1] for n, m in net.named_modules() if isinstance(m, (nn.Linear, nn.Conv2d))})
        raise ValueError(f"targets {targets} match no Linear or Conv2d layer; layer names end with: {kinds}")
    if any(isinstance(m, LoRALayer) and name in m.A for _, m in found):
        raise ValueError(f"an adapter named {name!r} is already on these layers; choose another name")
    net.requires_grad_(False)
    g = torch.Generator().manual_seed(seed)
    for n, m in found:
        if not isinstance(m, LoRALayer):
            parent, _, child = n.rpartition(".")
            m = LoRALayer(m)
            setattr(net.get_submodule(parent) if parent else net, child, m)
        m.add(name, rank, alpha, init_std, g)   # new parameters: the only ones that train
    return net


def _adapters(net, name):
    layers = {n: m for n, m in lora_layers(net).items() if name in m.A}
    if not layers:
        have = sorted({a for m in lora_layers(net).values() for a in m.A})
        raise ValueError(f"no LoRA adapter named {name!r} in this network (it has: {have or 'none'})")
    return layers


def set_scale(net: nn.Module, scale: float, name: str = "default") -> nn.Module:
    """The adapter's strength s at inference (0: the base model; 1: as trained; anything between or beyond)."""
    scale = check_real("scale", scale)
    for m in _adapters(net, name).values():
        m.scale[name] = scale
    return net


@torch.no_grad()
def merge(net: nn.Module, name: str = "default") -> nn.Module:
    """W ← W + s (α/r) B A in every layer of adapter ``name`` (inference then costs what the base model costs)."""
    for m in _adapters(net, name).values():
        if name in m.merged:
            raise ValueError(f"adapter {name!r} is already merged")
        m.base.weight += m.scale[name] * m.delta(name)
        m.merged[name] = m.scale[name]
    return net


@torch.no_grad()
def unmerge(net: nn.Module, name: str = "default") -> nn.Module:
    """Undo ``merge``: W ← W − s (α/r) B A with the scale that was merged."""
    for m in _adapters(net, name).values():
        if name not in m.merged:
            raise ValueError(f"adapter {name!r} is not merged")
        m.base.weight -= m.merged.pop(name) * m.delta(name)
    return net


def lora_state(net: nn.Module, name: str = "default") -> tuple[dict, dict]:
    """(tensors, config) of one adapter: "<layer>.A", "<layer>.B" and its rank, α and layers."""
    layers = _adapters(net, name)
    tensors = {}
    for n, m in layers.items():
        tensors[f"{n}.A"], tensors[f"{n}.B"] = m.A[name].detach(), m.B[name].detach()
    first = next(iter(layers.values()))
    return tensors, {"rank": first.rank[name], "alpha": first.alpha[name], "layers": sorted(layers)}


def load_lora_state(net: nn.Module, tensors: dict, config: dict, name: str = "default") -> nn.Module:
    """Attach an adapter saved by ``lora_state`` to a network built like the one it was trained on."""
    add_lora(net, config["layers"], config["rank"], config["alpha"], name)
    layers = _adapters(net, name)
    if sorted(layers) != sorted(config["layers"]):
        raise ValueError(f"the adapter's layers {config['layers']} do not all exist in this network")
    with torch.no_grad():
        for n, m in layers.items():
            for key, store in (("A", m.A), ("B", m.B)):
                t = tensors[f"{n}.{key}"]
                if t.shape != store[name].shape:
                    raise ValueError(f"adapter tensor {n}.{key} has shape {tuple(t.shape)}, the layer needs "
                                     f"{tuple(store[name].shape)}")
                store[name].copy_(t)
    return net


def count(net: nn.Module, name: str = "default") -> int:
    """Trainable numbers in adapter ``name``: Σ r (d_in + d_out) over its layers (times the kernel for convs)."""
    return sum(m.A[name].numel() + m.B[name].numel() for m in _adapters(net, name).values())
