"""Results worth keeping between runs: a pure function of some tensors, stored on disk under the digest of those
tensors (``~/.cache/diffedu/results``, or ``$DIFFEDU_CACHE/results``).

The classifier's features of MNIST's 10,000 test digits are the reference of every image metric in lessons
06, 07, 12 and 13: 8–12 s of one core each time a lesson runs, for the same numbers. Keyed by the classifier's
weights, the images themselves (``_files.tensor_digest``) and the source code that computes the result
(``source_digest``), a stored result is the one the function would compute again; a file that fails its own
digest is computed afresh and replaced (written atomically, like a checkpoint).
"""
from __future__ import annotations

import hashlib
import inspect
import json
from pathlib import Path

import torch
from safetensors import safe_open

from ._files import atomic_write, signed, tensor_digest
from .config import cache_dir

FORMAT = 1   # bumped when what a stored file holds changes


def _load(path: Path) -> dict | None:
    """The stored tensors, or None when the file is missing, unreadable, or fails its digest."""
    try:
        with safe_open(str(path), framework="pt") as f:
            header = json.loads(f.metadata()["diffedu"])
            out = {k: f.get_tensor(k) for k in f.keys()}
    except Exception:  # missing, truncated, not safetensors: computed again and replaced
        return None
    return out if header.get("sha256") == tensor_digest(out) else None


def cached(name: str, inputs: dict, extra: str, compute) -> dict:
    """``compute()`` (a dict of tensors), or the stored result for the same ``inputs`` (a dict of tensors: what
    the result is a function of) and ``extra`` (the rest, as text: say there what else it depends on, such as
    the code that computes it — ``source_digest``). Where nothing can be stored, the result is computed and
    returned all the same."""
    key = hashlib.sha256(f"{FORMAT}|{name}|{extra}|{tensor_digest(inputs)}".encode()).hexdigest()[:32]
    path = cache_dir("results") / f"{name}-{key}.safetensors"
    stored = _load(path)
    if stored is not None:
        return stored
    out = {k: v.detach().cpu().contiguous() for k, v in compute().items()}
    try:
        atomic_write(path, out, signed({"name": name, "extra": extra}, out))
    except Exception:  # a read-only or full disk, no home (safetensors raises its own error type): unkept
        pass
    return out


def source_digest(*objects) -> str:
    """A digest of the source code of ``objects`` (classes, functions, with their bases' and MRO's own code), so
    that a stored result is not served after the code that computes it changed."""
    h = hashlib.sha256()
    for obj in objects:
        for o in (obj.__mro__ if inspect.isclass(obj) else (obj,)):
            if o.__module__.split(".")[0] in ("builtins", "torch"):
                continue
            try:
                h.update(inspect.getsource(o).encode())
            except (OSError, TypeError):   # no source (a REPL class): its qualified name only
                h.update(f"{o.__module__}.{o.__qualname__}".encode())
    return h.hexdigest()[:16]


def network_tensors(net: torch.nn.Module) -> dict:
    """A network's parameters and buffers (what its output is a function of), for a cache key."""
    return {f"net.{k}": v.detach().cpu() for k, v in net.state_dict().items()}
