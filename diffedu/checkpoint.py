"""Checkpoints as safetensors (the weights) + JSON (what network to build) — never pickle.

``save(path, model)`` writes ``path.safetensors`` and ``path.json``, each atomically (a temporary file,
then a rename), so a crash never leaves half a checkpoint. ``load(path)`` rebuilds the network from the
JSON and refuses a file whose tensors are missing, unexpected or of the wrong shape, naming them.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from .models.registry import build

FORMAT = 1


def _paths(path) -> tuple[Path, Path]:
    p = Path(path)
    if p.suffix in (".safetensors", ".json"):
        p = p.with_suffix("")
    return p.with_suffix(".safetensors"), p.with_suffix(".json")


def _atomic(target: Path, write) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp{os.getpid()}")
    try:
        write(tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


def save(path, model: torch.nn.Module, meta: dict | None = None, dtype: torch.dtype | None = None,
         extra_tensors: dict | None = None) -> Path:
    """Write the weights (optionally cast to ``dtype``, e.g. float16 to ship) and the config."""
    if not hasattr(model, "config"):
        raise ValueError("model has no .config dict: only registered diffedu models can be saved")
    st_path, js_path = _paths(path)
    tensors = {}
    for k, v in model.state_dict().items():
        v = v.detach().to("cpu")
        if dtype is not None and v.is_floating_point():
            v = v.to(dtype)
        tensors[k] = v.contiguous()
    for k, v in (extra_tensors or {}).items():
        tensors[f"extra.{k}"] = v.detach().cpu().contiguous()
    info = {"format": FORMAT, "model": type(model).__name__, "config": model.config, "meta": meta or {}}
    _atomic(st_path, lambda p: save_file(tensors, str(p)))
    _atomic(js_path, lambda p: p.write_text(json.dumps(info, indent=2)))
    return st_path


def read_info(path) -> dict:
    _, js_path = _paths(path)
    if not js_path.exists():
        raise FileNotFoundError(f"no checkpoint config at {js_path}")
    return json.loads(js_path.read_text())


def load(path, device: str | torch.device = "cpu", dtype: torch.dtype = torch.float32):
    """Rebuild the network named in ``path.json`` and load ``path.safetensors`` onto ``device``."""
    st_path, _ = _paths(path)
    info = read_info(path)
    if info.get("format") != FORMAT:
        raise ValueError(f"{path}: checkpoint format {info.get('format')!r}, this diffedu reads {FORMAT}")
    model = build(info["model"], info["config"])
    if not st_path.exists():
        raise FileNotFoundError(f"no checkpoint weights at {st_path}")
    tensors = {k: v for k, v in load_file(str(st_path)).items() if not k.startswith("extra.")}
    expected = model.state_dict()
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    wrong = [f"{k}: file {tuple(tensors[k].shape)} vs model {tuple(expected[k].shape)}"
             for k in expected if k in tensors and tensors[k].shape != expected[k].shape]
    if missing or unexpected or wrong:
        parts = []
        if missing:
            parts.append(f"missing tensors {missing[:5]}")
        if unexpected:
            parts.append(f"unexpected tensors {unexpected[:5]}")
        if wrong:
            parts.append(f"wrong shapes {wrong[:5]}")
        raise ValueError(f"{st_path} does not fit {info['model']}({info['config']}): " + "; ".join(parts))
    model.load_state_dict({k: v.to(expected[k].dtype) for k, v in tensors.items()})
    model.meta = info.get("meta", {})
    return model.to(device=device, dtype=dtype).eval()


def load_extra(path) -> dict:
    """Tensors stored beside the weights with ``save(..., extra_tensors=...)``."""
    st_path, _ = _paths(path)
    return {k[len("extra."):]: v for k, v in load_file(str(st_path)).items() if k.startswith("extra.")}


def save_training(path, result, step: int, meta: dict | None = None) -> Path:
    """A resumable training state: weights, EMA weights, the AdamW moments and the RNG states (safetensors),
    and the step, loss history and optimiser settings (JSON). Written atomically, so a crash leaves the
    previous state."""
    opt = result.optimizer_state or {"state": {}, "param_groups": []}
    extra = {f"ema.{k}": v for k, v in result.ema.state_dict().items()}
    for idx, st in opt["state"].items():
        for name, v in st.items():
            extra[f"opt.{idx}.{name}"] = v if torch.is_tensor(v) else torch.tensor(v)
    for name, v in (result.rng_state or {}).items():  # uint8 tensors: the RNGs continue where they stopped
        extra[f"rng.{name}"] = v
    info = {"step": step, "losses": result.losses, "seconds": result.seconds,
            "param_groups": [{k: v for k, v in g.items()} for g in opt["param_groups"]], **(meta or {})}
    return save(path, result.model, meta=info, extra_tensors=extra)


def load_training(path, device="cpu"):
    """Rebuild a ``TrainResult`` and the step it reached from ``save_training``'s files."""
    from .train import TrainResult

    model = load(path, device=device)
    model.train()
    extra = load_extra(path)
    ema = load(path, device=device)
    ema.load_state_dict({k[4:]: v for k, v in extra.items() if k.startswith("ema.")})
    state: dict = {}
    for k, v in extra.items():
        if k.startswith("opt."):
            _, idx, name = k.split(".", 2)
            state.setdefault(int(idx), {})[name] = v.to(device) if name != "step" else v
    meta = model.meta
    opt_state = {"state": state, "param_groups": meta.get("param_groups", [])} if state else None
    rng = {k[4:]: v for k, v in extra.items() if k.startswith("rng.")} or None
    result = TrainResult(model, ema.requires_grad_(False), list(meta.get("losses", [])),
                         meta.get("seconds", 0.0), str(device), opt_state, rng)
    return result, int(meta.get("step", 0))
