"""The checkpoints shipped with diffedu, loaded by name: ``pretrained("mnist-unet")``.

A diffusion checkpoint comes back as a ``DiffusionModel`` that carries its process and parameterisation,
so it samples with no schedule passed:  ``ddim_sample(pretrained("ring8-mlp"), torch.randn(500, 2), 50)``.
Classifiers come back as networks. ``assets/MODEL_CARD.md`` says how each was trained and how well it does;
``python -m diffedu.recipes NAME`` retrains one.
"""
from __future__ import annotations

from pathlib import Path

import torch

from . import checkpoint

ASSETS = Path(__file__).parent / "assets"


def shipped() -> list[str]:
    """The names ``pretrained`` accepts."""
    return sorted(p.name[: -len(".safetensors")] for p in ASSETS.glob("*.safetensors"))


def asset_path(name: str) -> Path:
    if not isinstance(name, str):
        raise TypeError(f"name must be a string naming a shipped checkpoint, got {type(name).__name__}")
    if name not in shipped():
        hint = " (to load a file, use diffedu.checkpoint.load(path))" if ("/" in name or "\\" in name) else ""
        raise ValueError(f"no shipped checkpoint {name!r}{hint}; shipped: {', '.join(shipped())}")
    return ASSETS / f"{name}.safetensors"


def pretrained(name: str, device: str | torch.device = "cpu"):
    """The shipped checkpoint ``name`` (EMA weights, float32) on ``device``, ready to sample or classify."""
    path = asset_path(name)
    return checkpoint.load(path, device=device)
