"""Checkpoints: one safetensors file that carries the weights *and* what they are — never pickle.

The file's header metadata holds one JSON document (key ``"diffedu"``):

    {"format": 3, "model": "UNet", "config": {...},               the network to build
     "process": {"kind": "DiscreteVP", ...}, "prediction": "eps",  how to read it (``diffedu.model``)
     "num_classes": 10, "meta": {...},                             conditioning, recipe/history
     "sha256": "…", "header_sha256": "…"}                          the payload's hash, the header's hash

so a network can never meet the wrong schedule, and one ``os.replace`` swaps the whole checkpoint: a crash
mid-write leaves the previous file (weights, metadata and training state together), never a mix. The
sha256 covers every tensor's name, dtype, shape and bytes; ``header_sha256`` covers every field that changes what
the model computes (all but ``meta``, the history): a file whose payload or whose process, prediction, classes,
configuration or a kind's part was altered is refused, and so are non-finite weights. Format 2 (before headers
were signed) is refused with the one command that re-signs a file you trust (``resign``). Every error names the file.

A model kind that is more than a network, a process and a prediction keeps its own part of the header under its
own key, and its own tensors as ``KEY.*``, through ``register_kind``: ``"consistency": {"t_min", "sigma_data"}``
(``fewstep.consistency``), ``"autoencoder": {"model", "config", "scale"}`` with ``autoencoder.*`` (``latent``).
This module knows the file format and never names a kind: the kinds import it, not the other way round. A
training state (``train_state.save_training``) is a checkpoint of the network with its EMA and AdamW tensors as ``extra.*``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import safe_open

from . import processes as P
from ._checks import check_float_dtype
from ._files import atomic_write, edited_fields, non_finite, signed, tensor_digest
from .model import DiffusionModel
from .models.registry import build

FORMAT = 3


@dataclass(frozen=True)
class Kind:
    """A model kind registered with ``register_kind``."""
    key: str                  # its part of the header is header[key]; its tensors are stored as f"{key}.NAME"
    cls: type
    fields: tuple[str, ...]   # what its part must hold (checked on load, the error naming the file)


KINDS: dict[str, Kind] = {}


def register_kind(key: str, *fields: str):
    """Class decorator: a model kind that keeps its own part of the header under ``key``. The class provides

        model.checkpoint_part() -> (part, tensors, inner)
            part:    a JSON dict, written as header[key] (it holds ``fields``)
            tensors: the kind's own tensors, written as f"{key}.NAME" (cast to ``save``'s dtype)
            inner:   the DiffusionModel whose network, process, prediction and num_classes fill the rest of the
                     header (the model itself when it is one); the model's ``meta`` goes in the header's meta
        cls.from_checkpoint(part, inner, tensors, build) -> model
            part:    header[key], holding ``fields``;  inner: that DiffusionModel, rebuilt;
            tensors: its own tensors, f"{key}." removed;  build(spec, tensors): the network that a
                     ``{"model", "config"}`` spec names with those weights, on the load's device and dtype
    """
    def add(cls):
        for method in ("checkpoint_part", "from_checkpoint"):
            if not callable(getattr(cls, method, None)):
                raise TypeError(f"{cls.__name__} must define {method} to be saved as a checkpoint kind")
        KINDS[key] = Kind(key, cls, fields)
        return cls
    return add


def _kind_of(model) -> Kind | None:
    """The registered kind of ``model``: the nearest registered class in its type's MRO."""
    by_class = {k.cls: k for k in KINDS.values()}
    return next((by_class[c] for c in type(model).__mro__ if c in by_class), None)


def _listing(names) -> str:
    return ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else "".join(names)


def path_of(path) -> Path:
    p = Path(path)
    return p if p.suffix == ".safetensors" else p.with_name(p.name + ".safetensors")


def _refuse_non_finite(tensors: dict, p: Path) -> None:
    bad = non_finite(tensors)
    if bad:
        raise ValueError(f"{p}: tensor(s) {bad[:5]} hold NaN or infinite values: refusing a broken network")


def _cast(v: torch.Tensor, dtype) -> torch.Tensor:
    v = v.detach().to("cpu")
    return (v.to(dtype) if dtype is not None and v.is_floating_point() else v).contiguous()


def save(path, net: torch.nn.Module, *, process: P.Process | None = None, prediction: str | None = None,
         num_classes: int | None = None, meta: dict | None = None, dtype: torch.dtype | None = None,
         extra_tensors: dict | None = None) -> Path:
    """Write ``net``'s weights (optionally cast to ``dtype``, e.g. float16 to ship) with its description.

    ``save(path, model)`` also takes a ``DiffusionModel`` and stores its process and prediction, and a model of
    a registered kind (``register_kind``) with its own part of the header."""
    check_float_dtype("dtype", dtype, optional=True, why=": an integer dtype would truncate every weight")
    tensors, extra_header = {}, {}
    kind = _kind_of(net)
    if kind is not None:  # a kind with its own part of the header: that part, its tensors, the DiffusionModel inside
        part, own, inner = net.checkpoint_part()
        if not isinstance(inner, DiffusionModel) or (inner is not net and _kind_of(inner) is not None):
            raise ValueError(f"{type(net).__name__}.checkpoint_part must give a DiffusionModel of no other kind, "
                             f"got {type(inner).__name__}")
        extra_header[kind.key] = part
        tensors.update({f"{kind.key}.{k}": _cast(v, dtype) for k, v in own.items()})
        meta = {**net.meta, **(meta or {})}
        net = inner
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
    target = path_of(path)
    _refuse_non_finite(tensors, target)
    header = {"format": FORMAT, "model": type(net).__name__, "config": net.config,
              "process": process.spec() if process is not None else None, "prediction": prediction,
              "num_classes": num_classes, "meta": meta or {}, **extra_header}
    atomic_write(target, tensors, signed(header, tensors))
    return target


def save_tensors(path, kind: str, config: dict, tensors: dict, meta: dict | None = None) -> Path:
    """A file of tensors that is not a whole network — a LoRA adapter, new word embeddings (``diffedu.adapt``) —
    with the same header (``"model": kind``), sha256 and atomic write; ``read`` verifies it."""
    tensors = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
    target = path_of(path)
    _refuse_non_finite(tensors, target)
    header = {"format": FORMAT, "model": kind, "config": config, "process": None, "prediction": None,
              "meta": meta or {}}
    atomic_write(target, tensors, signed(header, tensors))
    return target


def read(path, *, unsigned_ok: bool = False) -> tuple[dict, dict]:
    """(header, tensors) of a checkpoint file, verified: format, structure, the payload's and the header's sha256,
    finite weights. ``unsigned_ok``: also read format 2 (no header signature; only ``resign`` asks for it)."""
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
    if isinstance(header, dict) and header.get("format") == 2 and not unsigned_ok:
        raise ValueError(f"{p}: checkpoint format 2 has no header signature (written before diffedu 0.3), so an "
                         "edited process or prediction could not be noticed; if you trust the file, re-sign it once: "
                         f"python -c 'import diffedu; diffedu.checkpoint.resign(\"{p}\")'")
    if not isinstance(header, dict) or header.get("format") not in ((2, FORMAT) if unsigned_ok else (FORMAT,)):
        got = header.get("format") if isinstance(header, dict) else type(header).__name__
        raise ValueError(f"{p}: checkpoint format {got!r}, this diffedu reads {FORMAT}")
    for key, kind in (("model", str), ("config", dict), ("meta", dict), ("sha256", str)):
        if not isinstance(header.get(key), kind):
            raise ValueError(f"{p}: metadata field {key!r} must be a {kind.__name__}, got {header.get(key)!r}")
    if tensor_digest(tensors) != header["sha256"]:
        raise ValueError(f"{p}: the tensors do not match the sha256 stored with them: the file was altered or "
                         "damaged; restore it (pip reinstall, git checkout, or retrain)")
    edited = edited_fields(header) if header["format"] == FORMAT else []
    if edited:
        raise ValueError(f"{p}: header field(s) {', '.join(map(repr, edited))} do not match the header_sha256 stored "
                         "with them: what the model computes was edited; restore the file (pip reinstall, git "
                         "checkout, or retrain)")
    _refuse_non_finite(tensors, p)
    return header, tensors


def resign(path) -> Path:
    """Re-write a trusted format-2 file as format 3 (its header signed); tensors and their bytes unchanged."""
    p = path_of(path)
    header, tensors = read(p, unsigned_ok=True)
    atomic_write(p, tensors, signed({**header, "format": FORMAT}, tensors))
    return p


def build_network(p: Path, header: dict, tensors: dict) -> torch.nn.Module:
    """The network ``header["model"]``(``header["config"]``) with its weights from ``tensors`` (those under
    ``extra.`` and under a kind's key left out), every tensor checked; errors name the file ``p``."""
    try:
        net = build(header["model"], header["config"])
    except (TypeError, ValueError) as e:
        raise ValueError(f"{p}: cannot build {header['model']}({header['config']}): {e}") from None
    weights = {k: v for k, v in tensors.items() if not k.startswith(("extra.", *(f"{key}." for key in KINDS)))}
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
    net = build_network(p, header, tensors).to(device=device, dtype=dtype).eval()
    net.meta = header["meta"]
    try:
        process = P.from_spec(header["process"]) if header.get("process") is not None else None
    except (TypeError, ValueError) as e:
        raise ValueError(f"{p}: metadata field 'process': {e}") from None
    if header.get("prediction") is None:
        if process is not None:
            net.process = process
        return net
    args = (net, process, header["prediction"], header.get("num_classes"), header["meta"])
    kinds = [k for k in KINDS.values() if header.get(k.key) is not None]
    if not kinds:
        return DiffusionModel(*args)
    if len(kinds) > 1:
        raise ValueError(f"{p}: metadata holds the parts of several model kinds {[k.key for k in kinds]}; one at most")
    kind = kinds[0]
    part = header[kind.key]
    if not isinstance(part, dict) or not set(kind.fields) <= set(part):
        raise ValueError(f"{p}: metadata field {kind.key!r} must hold {_listing(kind.fields)}, got {part!r}")
    own = {k[len(kind.key) + 1:]: v for k, v in tensors.items() if k.startswith(f"{kind.key}.")}

    def build_part(spec: dict, weights: dict) -> torch.nn.Module:
        return build_network(p, spec, weights).to(device=device, dtype=dtype).eval()

    return kind.cls.from_checkpoint(part, DiffusionModel(*args), own, build_part)
