"""A training run that can stop and go on: its state in one checkpoint file, and back.

    save_training(path, result, step)      # weights, EMA weights, AdamW moments; step, losses, settings
    result, step = load_training(path)     # train(..., result=result, start_step=step) continues it exactly

The file is an ordinary checkpoint (``diffedu.checkpoint``): the network's weights, the EMA copy and the optimiser's
moments as ``extra.*`` tensors, the rest in the header's metadata — so it is written atomically (a crash mid-write
leaves the previous state) and verified on load like every checkpoint.
"""
from __future__ import annotations

import torch

from . import checkpoint
from .train import TrainResult


def save_training(path, result: TrainResult, step: int, meta: dict | None = None):
    """A resumable training state in one checkpoint file: weights, EMA weights and AdamW moments (tensors); the
    step, loss history and optimiser settings (metadata). Atomic, so a crash leaves the previous state whole."""
    opt = result.optimizer_state or {"state": {}, "param_groups": []}
    extra = {f"ema.{k}": v for k, v in result.ema.state_dict().items()}
    for idx, st in opt["state"].items():
        for name, v in st.items():
            extra[f"opt.{idx}.{name}"] = v if torch.is_tensor(v) else torch.tensor(v)
    info = {"step": step, "losses": result.losses, "seconds": result.seconds,
            "param_groups": [dict(g) for g in opt["param_groups"]], **(meta or {})}
    return checkpoint.save(path, result.model, meta=info, extra_tensors=extra)


def load_training(path, device="cpu") -> tuple[TrainResult, int]:
    """Rebuild a ``TrainResult`` and the step it reached from ``save_training``'s file."""
    p = checkpoint.path_of(path)
    header, tensors = checkpoint.read(p)
    model = checkpoint.build_network(p, header, tensors).to(device)
    ema = checkpoint.build_network(p, header, {k[len("extra.ema."):]: v for k, v in tensors.items()
                                               if k.startswith("extra.ema.")}).to(device)
    state: dict = {}
    for k, v in tensors.items():
        if k.startswith("extra.opt."):
            _, _, idx, name = k.split(".", 3)
            state.setdefault(int(idx), {})[name] = v.to(device) if name != "step" else v
    meta = header["meta"]
    model.meta = meta
    opt_state = {"state": state, "param_groups": meta.get("param_groups", [])} if state else None
    result = TrainResult(model.train(), ema.eval().requires_grad_(False), list(meta.get("losses", [])),
                         meta.get("seconds", 0.0), str(device), opt_state)
    return result, int(meta.get("step", 0))
