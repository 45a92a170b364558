"""The checks a network runs on its inputs, so a wrong call fails here, naming the argument, and not deep
inside a convolution (or, worse, not at all)."""
from __future__ import annotations

import torch


def check_inputs(net: torch.nn.Module, x: torch.Tensor, t: torch.Tensor, sample_shape: tuple,
                 y: torch.Tensor | None = None, num_classes: int = 0) -> None:
    """x: (B, *sample_shape) in the network's dtype, finite; t: (B,) finite; y: None or (B,) integer labels in
    [0, num_classes] (num_classes itself is the null label ∅ of classifier-free guidance)."""
    name = type(net).__name__
    if not torch.is_tensor(x) or x.ndim != len(sample_shape) + 1 or tuple(x.shape[1:]) != tuple(sample_shape):
        got = tuple(x.shape) if torch.is_tensor(x) else type(x).__name__
        raise ValueError(f"{name}: x must have shape (batch, {', '.join(map(str, sample_shape))}), got {got}")
    w = next(net.parameters())
    autocast = torch.is_autocast_enabled(x.device.type) if x.device.type in ("cpu", "cuda") else False
    if not x.is_floating_point() or (x.dtype != w.dtype and not autocast):
        raise ValueError(f"{name}: x has dtype {x.dtype} but the network's weights are {w.dtype}: convert with "
                         f"x.to({w.dtype}) (a diffedu DiffusionModel does this for you)")
    if not torch.isfinite(x).all():
        raise ValueError(f"{name}: x contains NaN or infinite values")
    if not torch.is_tensor(t) or t.shape != (x.shape[0],):
        got = tuple(t.shape) if torch.is_tensor(t) else type(t).__name__
        raise ValueError(f"{name}: t must have shape ({x.shape[0]},), one time per sample, got {got}")
    if t.is_floating_point() and not torch.isfinite(t).all():
        raise ValueError(f"{name}: t contains NaN or infinite values")
    if y is None:
        return
    if not num_classes:
        raise ValueError(f"{name}: y was given but the network is unconditional (num_classes = 0)")
    if not torch.is_tensor(y) or y.is_floating_point() or y.dtype == torch.bool or y.shape != (x.shape[0],):
        raise ValueError(f"{name}: y must be an integer tensor of shape ({x.shape[0]},), got "
                         f"{tuple(y.shape) if torch.is_tensor(y) else type(y).__name__}"
                         f"{' of dtype ' + str(y.dtype) if torch.is_tensor(y) else ''}")
    if y.numel() and (y.min() < 0 or y.max() > num_classes):
        raise ValueError(f"{name}: y must hold class labels in [0, {num_classes - 1}] or {num_classes} for the null "
                         f"label ∅, got values in [{int(y.min())}, {int(y.max())}]")
