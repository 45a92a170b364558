"""Checkpoints: one safetensors file that carries the weights *and* what they are — never pickle.

The file's header metadata holds one JSON document (key ``"diffedu"``):

    {"format": 2, "model": "UNet", "config": {...},               the network to build
     "process": {"kind": "DiscreteVP", ...}, "prediction": "eps",  how to read it (``diffedu.model``)
     "num_classes": 10, "meta": {...}, "sha256": "…"}              conditioning, recipe/history, payload hash

(a latent model adds ``"autoencoder": {"model", "config", "scale"}`` and its weights as ``autoencoder.*``)

so a network can never meet the wrong schedule, and one ``os.replace`` swaps the whole checkpoint: a crash
mid-write leaves the previous file (weights, metadata and training state together), never a mix. The
sha256 covers every tensor's name, dtype, shape and bytes; a file whose payload was altered is refused.
Every error names the file.
"""
from __future__ import annotations

import glob
import hashlib
import json
import os
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from . import processes as P
from .fewstep.consistency import ConsistencyModel
from .latent import LatentDiffusionModel
from .model import DiffusionModel
from .models.registry import build

FORMAT = 2
AE_PREFIX = "autoencoder."  # a latent model's autoencoder weights, beside the denoiser's


def path_of(path) -> Path:
    p = Path(path)
    return p if p.suffix == ".safetensors" else p.with_name(p.name + ".safetensors")


def tensor_digest(tensors: dict) -> str:
    h = hashlib.sha256()
    for k in sorted(tensors):
        v = tensors[k].contiguous()
        h.update(f"{k}|{v.dtype}|{tuple(v.shape)}|".encode())
        h.update(v.reshape(-1).view(torch.uint8).numpy().tobytes() if v.numel() else b"")
    return h.hexdigest()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _atomic_write(target: Path, tensors: dict, header: dict) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    for stale in glob.glob(str(target.with_name(f".{target.name}.tmp-*"))):  # left by a killed writer
        pid = stale.rsplit("-", 1)[-1]
        if pid.isdigit() and not _pid_alive(int(pid)):
            Path(stale).unlink(missing_ok=True)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    try:
        save_file(tensors, str(tmp), metadata={"diffedu": json.dumps(header)})
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _cast(v: torch.Tensor, dtype) -> torch.Tensor:
    v = v.detach().to("cpu")
    return (v.to(dtype) if dtype is not None and v.is_floating_point() else v).contiguous()


def save(path, net: torch.nn.Module, *, process: P.Process | None = None, prediction: str | None = None,
         num_classes: int | None = None, meta: dict | None = None, dtype: torch.dtype | None = None,
         extra_tensors: dict | None = None) -> Path:
    """Write ``net``'s weights (optionally cast to ``dtype``, e.g. float16 to ship) with its description.

    ``save(path, model)`` also takes a ``DiffusionModel`` and stores its process and prediction."""
    tensors, extra_header = {}, {}
    if isinstance(net, ConsistencyModel):  # f_θ around a diffusion model: that model, and the two numbers
        if type(net.net) is not DiffusionModel:   # (a latent model's autoencoder would be lost on load)
            raise ValueError("only a ConsistencyModel around a DiffusionModel (F = its x̂_0) can be saved")
        extra_header["consistency"] = {"t_min": net.t_min, "sigma_data": net.sigma_data}
        meta = {**net.meta, **(meta or {})}
        net = net.net
    if isinstance(net, LatentDiffusionModel):  # the autoencoder travels with the latent model
        ae = net.autoencoder
        extra_header["autoencoder"] = {"model": type(ae).__name__, "config": ae.config, "scale": net.scale}
        tensors.update({f"{AE_PREFIX}{k}": _cast(v, dtype) for k, v in ae.state_dict().items()})
    if isinstance(net, DiffusionModel):
        process, prediction = net.process, net.prediction
        num_classes, meta = net.num_classes, {**net.meta, **(meta or {})}
        net = net.net
    if not hasattr(net, "config"):
        raise ValueError("net has no .config dict: only diffedu.models networks can be saved")
    if prediction is not None and process is None:
        raise ValueError("prediction needs a process: pass process= too")
    for k, v in net.state_dict().items():
        tensors[k] = _cast(v, dtype)
    for k, v in (extra_tensors or {}).items():
        tensors[f"extra.{k}"] = v.detach().cpu().contiguous()
    header = {"format": FORMAT, "model": type(net).__name__, "config": net.config,
              "process": process.spec() if process is not None else None, "prediction": prediction,
              "num_classes": num_classes, "meta": meta or {}, **extra_header, "sha256": tensor_digest(tensors)}
    target = path_of(path)
    _atomic_write(target, tensors, header)
    return target


def save_tensors(path, kind: str, config: dict, tensors: dict, meta: dict | None = None) -> Path:
    """A file of tensors that is not a whole network — a LoRA adapter, new word embeddings (``diffedu.adapt``) —
    with the same header (``"model": kind``), sha256 and atomic write; ``read`` verifies it."""
    tensors = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
    header = {"format": FORMAT, "model": kind, "config": config, "process": None, "prediction": None,
              "meta": meta or {}, "sha256": tensor_digest(tensors)}
    target = path_of(path)
    _atomic_write(target, tensors, header)
    return target


def read(path) -> tuple[dict, dict]:
    """(header, tensors) of a checkpoint file, verified: format, structure and the payload's sha256."""
    p = path_of(path)
    if p.is_dir():
        raise ValueError(f"{p} is a directory, not a checkpoint file")
    if not p.exists():
        raise FileNotFoundError(f"no checkpoint at {p}")
    try:
        with safe_open(str(p), framework="pt") as f:
            raw = (f.metadata() or {}).get("diffedu")
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except Exception as e:  # safetensors raises its own error types for a damaged header
        raise ValueError(f"{p} is not a readable safetensors file ({type(e).__name__}: {e})") from None
    if raw is None:
        raise ValueError(f"{p} has no diffedu metadata (written by another tool, or by diffedu < 0.2)")
    try:
        header = json.loads(raw)
    except json.JSONDecodeError as e:
        raise ValueError(f"{p}: its diffedu metadata is not valid JSON ({e})") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        got = header.get("format") if isinstance(header, dict) else type(header).__name__
        raise ValueError(f"{p}: checkpoint format {got!r}, this diffedu reads {FORMAT}")
    for key, kind in (("model", str), ("config", dict), ("meta", dict), ("sha256", str)):
        if not isinstance(header.get(key), kind):
            raise ValueError(f"{p}: metadata field {key!r} must be a {kind.__name__}, got {header.get(key)!r}")
    if tensor_digest(tensors) != header["sha256"]:
        raise ValueError(f"{p}: the tensors do not match the sha256 stored with them: the file was altered or "
                         "damaged; restore it (pip reinstall, git checkout, or retrain)")
    return header, tensors


def _build(p: Path, header: dict, tensors: dict) -> torch.nn.Module:
    try:
        net = build(header["model"], header["config"])
    except (TypeError, ValueError) as e:
        raise ValueError(f"{p}: cannot build {header['model']}({header['config']}): {e}") from None
    weights = {k: v for k, v in tensors.items() if not k.startswith(("extra.", AE_PREFIX))}
    expected = net.state_dict()
    missing, unexpected = sorted(set(expected) - set(weights)), sorted(set(weights) - set(expected))
    wrong = [f"{k}: file {tuple(weights[k].shape)} vs model {tuple(expected[k].shape)}"
             for k in expected if k in weights and weights[k].shape != expected[k].shape]
    if missing or unexpected or wrong:
        parts = [f"{what} {items[:5]}" for what, items in
                 (("missing tensors", missing), ("unexpected tensors", unexpected), ("wrong shapes", wrong)) if items]
        raise ValueError(f"{p} does not fit {header['model']}({header['config']}): " + "; ".join(parts))
    net.load_state_dict({k: v.to(expected[k].dtype) for k, v in weights.items()})
    return net


def load(path, device: str | torch.device = "cpu", dtype: torch.dtype = torch.float32):
    """The checkpoint, ready to use: a ``DiffusionModel`` when it stores a prediction, else the network
    (with ``.meta``, and ``.process`` for a noisy classifier)."""
    p = path_of(path)
    header, tensors = read(p)
    net = _build(p, header, tensors).to(device=device, dtype=dtype).eval()
    net.meta = header["meta"]
    process = P.from_spec(header["process"]) if header.get("process") is not None else None
    if header.get("prediction") is None:
        if process is not None:
            net.process = process
        return net
    args = (net, process, header["prediction"], header.get("num_classes"), header["meta"])
    ae, cm = header.get("autoencoder"), header.get("consistency")
    if cm is not None:
        if not isinstance(cm, dict) or not {"t_min", "sigma_data"} <= set(cm):
            raise ValueError(f"{p}: metadata field 'consistency' must hold t_min and sigma_data, got {cm!r}")
        return ConsistencyModel(DiffusionModel(*args), process, cm["t_min"], cm["sigma_data"], args[3], args[4])
    if ae is None:
        return DiffusionModel(*args)
    if not isinstance(ae, dict) or not {"model", "config", "scale"} <= set(ae):
        raise ValueError(f"{p}: metadata field 'autoencoder' must hold model, config and scale, got {ae!r}")
    sub = {k[len(AE_PREFIX):]: v for k, v in tensors.items() if k.startswith(AE_PREFIX)}
    autoencoder = _build(p, ae, sub).to(device=device, dtype=dtype).eval()
    return LatentDiffusionModel(*args, autoencoder=autoencoder, scale=ae["scale"])


def load_extra(path) -> dict:
    """Tensors stored beside the weights with ``save(..., extra_tensors=...)`` (verified)."""
    _, tensors = read(path)
    return {k[len("extra."):]: v for k, v in tensors.items() if k.startswith("extra.")}


def save_training(path, result, step: int, meta: dict | None = None) -> Path:
    """A resumable training state in one file: weights, EMA weights and AdamW moments (tensors); the step,
    loss history and optimiser settings (metadata). Atomic, so a crash leaves the previous state whole."""
    opt = result.optimizer_state or {"state": {}, "param_groups": []}
    extra = {f"ema.{k}": v for k, v in result.ema.state_dict().items()}
    for idx, st in opt["state"].items():
        for name, v in st.items():
            extra[f"opt.{idx}.{name}"] = v if torch.is_tensor(v) else torch.tensor(v)
    info = {"step": step, "losses": result.losses, "seconds": result.seconds,
            "param_groups": [dict(g) for g in opt["param_groups"]], **(meta or {})}
    return save(path, result.model, meta=info, extra_tensors=extra)


def load_training(path, device="cpu"):
    """Rebuild a ``TrainResult`` and the step it reached from ``save_training``'s file."""
    from .train import TrainResult

    p = path_of(path)
    header, tensors = read(p)
    model = _build(p, header, tensors).to(device)
    ema = _build(p, header, {k[len("extra.ema."):]: v for k, v in tensors.items()
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
