"""Network evaluations in bfloat16 where the hardware computes it natively: image widgets answer about twice
as fast, with pictures a student cannot tell apart.

Measured on the course CPU (2 Zen 4 cores with AVX-512 BF16; ``benchmarks/denoiser_cpu.py``): the MNIST U-Net's
inference at batch 20 goes from 275 to 518 img/s, so lesson 07's CFG slider (10 digits × DDIM-8, 16 network
passes at batch 10 … 20) roughly halves its wait. On a CPU without native bf16 (most laptops before 2023),
autocast would *emulate* it, slower than float32, so there the evaluation stays in float32.

The samplers keep their own arithmetic in float32/float64; only the network runs under autocast, and its output
is cast back to the input's dtype by ``Model``. ``DIFFEDU_BF16=0`` (or 1) overrides the choice.
"""
from __future__ import annotations

import contextlib
import os
from types import MappingProxyType

import torch

# train()'s keyword arguments for training in bf16: the network under autocast in bfloat16; the recipes use them
# where use_bf16 says so (python -m diffedu.recipes --precision). Not channels_last: on the CPU, GroupNorm's bf16
# channels-last kernel is ~12× slower than its contiguous one, which made the U-Nets' bf16 steps 1.08–1.25× slower
# with it than without (benchmarks/README.md, "Training in bf16"); on a GPU neither has been measured.
BF16_TRAINING = MappingProxyType({"amp_dtype": torch.bfloat16})


def native_bf16(device) -> bool:
    """Whether ``device`` computes bfloat16 matrix products natively (AVX-512 BF16 or AMX on a CPU; Ampere or later
    on CUDA). MPS: False (its autocast support varies by macOS version)."""
    dev = torch.device(device)
    if dev.type == "cpu":
        check = getattr(torch.cpu, "_is_avx512_bf16_supported", None)
        amx = getattr(torch.cpu, "_is_amx_tile_supported", None)
        return bool((check is not None and check()) or (amx is not None and amx()))
    if dev.type == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    return False


def use_bf16(device, enabled: bool | None = None) -> bool:
    """``enabled`` if given, else $DIFFEDU_BF16 if set (0/1), else ``native_bf16(device)``."""
    if enabled is not None:
        return bool(enabled)
    env = os.environ.get("DIFFEDU_BF16", "").strip().lower()
    if env:
        if env not in {"0", "1", "true", "false", "yes", "no", "on", "off"}:
            raise ValueError(f"DIFFEDU_BF16 must be 0 or 1, got {os.environ['DIFFEDU_BF16']!r}")
        return env in {"1", "true", "yes", "on"}
    return native_bf16(device)


def inference_autocast(device, enabled: bool | None = None):
    """A context in which network calls on ``device`` run in bfloat16 (``use_bf16``), else a no-op."""
    dev = torch.device(device)
    if not use_bf16(dev, enabled) or dev.type not in ("cpu", "cuda"):
        return contextlib.nullcontext()
    return torch.autocast(dev.type, dtype=torch.bfloat16)
