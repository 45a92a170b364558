"""What a file of weights needs whatever it holds: digests of its tensors and of its header, a check for
non-finite values, and an atomic write (a temporary file, fsync, one ``os.replace``), so that a crash mid-write
leaves the previous file whole. ``checkpoint`` builds the format on these."""
from __future__ import annotations

import glob
import hashlib
import json
import os
from pathlib import Path

import torch
from safetensors.torch import save_file

UNSIGNED = ("meta", "sha256", "header_sha256")   # the header fields that do not change what a model computes


def tensor_digest(tensors: dict) -> str:
    h = hashlib.sha256()
    for k in sorted(tensors):
        v = tensors[k].contiguous()
        h.update(f"{k}|{v.dtype}|{tuple(v.shape)}|".encode())
        h.update(v.reshape(-1).view(torch.uint8).numpy().tobytes() if v.numel() else b"")
    return h.hexdigest()


def header_digest(header: dict) -> dict:
    """{field: sha256 of its JSON (keys sorted)} for the header's semantic fields (all but ``UNSIGNED``): what
    ``header_sha256`` holds, one digest a field so that an error can name the field that was edited."""
    return {k: hashlib.sha256(json.dumps(v, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
            for k, v in header.items() if k not in UNSIGNED}


def edited_fields(header: dict) -> list[str]:
    """The semantic fields whose value no longer matches ``header_sha256`` (added, removed or changed)."""
    stored = header.get("header_sha256")
    if not isinstance(stored, dict):
        return ["header_sha256"]
    now = header_digest(header)
    return sorted(k for k in set(stored) | set(now) if stored.get(k) != now.get(k))


def signed(header: dict, tensors: dict) -> dict:
    """The header with its two digests filled in (the payload's and its own), in the order files keep."""
    header = {k: v for k, v in header.items() if k not in ("sha256", "header_sha256")}
    return {**header, "sha256": tensor_digest(tensors), "header_sha256": header_digest(header)}


def non_finite(tensors: dict) -> list[str]:
    """The names of the floating-point tensors that hold NaN or ±inf."""
    return [k for k, v in tensors.items() if v.is_floating_point() and not torch.isfinite(v).all()]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def atomic_write(target: Path, tensors: dict, header: dict) -> None:
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
