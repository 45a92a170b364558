"""A 1-D Diffusion Transformer over a waveform, with Stable Audio's timing conditioning (lesson 14).

    x (B, 1, N) ─ cut into N/p patches of p samples, a linear map each, + 1-D sinusoidal positions → (B, N/p, D)
    c = embed(t) + embed(pitch) + embed(timbre) + MLP([φ(seconds_start), φ(seconds_total)])        (B, D)
    depth × DiTBlock (adaLN-Zero, the blocks of ``models.dit``)  →  LN ⊙ (1 + s) + b → Linear(D → p) → (B, 1, N)

Timing conditioning (Evans et al. 2024, "Fast Timing-Conditioned Latent Audio Diffusion"): every training clip
is a window of length N; the model is told where the window starts in its source (``seconds_start``, 0 for
our clips) and how long the source sounds (``seconds_total``); after seconds_total the window is silence
(the padding), which the model learns to produce, so one model makes clips of several lengths. φ(s) are the
sinusoidal features of ``timestep_embedding`` at position 1000 · s / max_seconds (``timing_features``).

The network keeps the library's contract ``net(x, t, y)``: ``y`` is one integer per clip,
pitch + P·(timbre + K·duration index) (``datasets.notes.label``), and y = num_classes is the null condition ∅ of
classifier-free guidance (the null pitch, timbre and timing embeddings together). ``seconds_start`` /
``seconds_total`` may also be passed directly, overriding the duration the label names.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from .._checks import check_int, check_real
from ._inputs import check_inputs
from .dit import DiTBlock, modulate
from .embedding import timestep_embedding
from .registry import register


def timing_features(seconds_start: torch.Tensor, seconds_total: torch.Tensor, dim: int,
                    max_seconds: float = 1.0) -> torch.Tensor:
    """[φ(seconds_start), φ(seconds_total)]: (B, 2·dim), φ(s) = timestep_embedding(1000 · s / max_seconds, dim)
    (sin in the even columns, cos in the odd ones, frequencies 1 … 1/10000 per unit of position)."""
    check_real("max_seconds", max_seconds, low=0, low_open=True)
    out = []
    for name, s in (("seconds_start", seconds_start), ("seconds_total", seconds_total)):
        s = torch.as_tensor(s)
        if s.ndim != 1 or not torch.isfinite(s.double()).all() or (s < 0).any():
            raise ValueError(f"{name} must be a (B,) tensor of finite seconds ≥ 0, got "
                             f"{tuple(s.shape)} {s.tolist() if s.numel() < 5 else ''}")
        out.append(timestep_embedding(1000.0 * s.double() / max_seconds, dim))
    if out[0].shape != out[1].shape:
        raise ValueError("seconds_start and seconds_total must have the same length")
    return torch.cat(out, -1).float()


def _sincos_1d(n: int, dim: int) -> torch.Tensor:
    return timestep_embedding(torch.arange(n, dtype=torch.float64), dim).float()


@register
class AudioDiT(nn.Module):
    """x̂₀ (what ``notes-dit`` learned; any prediction a recipe trains) at (x_t, t, y) for waveforms
    (B, 1, clip_samples); ``config`` as the constructor's arguments."""

    def __init__(self, clip_samples: int = 8000, patch_size: int = 80, hidden_size: int = 128, depth: int = 4,
                 heads: int = 4, mlp_ratio: float = 4.0, num_pitches: int = 8, num_timbres: int = 3,
                 durations: tuple = (0.25, 0.5, 0.75, 1.0), max_seconds: float = 1.0):
        super().__init__()
        for name, v in (("clip_samples", clip_samples), ("patch_size", patch_size), ("hidden_size", hidden_size),
                        ("depth", depth), ("heads", heads), ("num_pitches", num_pitches),
                        ("num_timbres", num_timbres)):
            check_int(name, v, low=1)
        check_real("mlp_ratio", mlp_ratio, low=0, low_open=True)
        check_real("max_seconds", max_seconds, low=0, low_open=True)
        durations = tuple(float(check_real("durations", d, low=0, low_open=True, high=max_seconds)) for d in durations)
        if not durations:
            raise ValueError("durations must list at least one seconds_total")
        if clip_samples % patch_size:
            raise ValueError(f"clip_samples {clip_samples} must be divisible by patch_size {patch_size}")
        if hidden_size % heads or hidden_size % 2:
            raise ValueError(f"hidden_size {hidden_size} must be even and divisible by heads {heads}")
        self.config = dict(clip_samples=clip_samples, patch_size=patch_size, hidden_size=hidden_size, depth=depth,
                           heads=heads, mlp_ratio=mlp_ratio, num_pitches=num_pitches, num_timbres=num_timbres,
                           durations=durations, max_seconds=max_seconds)
        D, p = hidden_size, patch_size
        self.num_classes = num_pitches * num_timbres * len(durations)
        self.patch = nn.Linear(p, D)
        self.register_buffer("pos", _sincos_1d(clip_samples // p, D), persistent=False)
        self.register_buffer("seconds", torch.tensor(durations), persistent=False)
        self.time = nn.Sequential(nn.Linear(D, D), nn.SiLU(), nn.Linear(D, D))
        self.pitch = nn.Embedding(num_pitches + 1, D)            # + 1: the null ∅
        self.timbre = nn.Embedding(num_timbres + 1, D)
        self.timing = nn.Sequential(nn.Linear(2 * D, D), nn.SiLU(), nn.Linear(D, D))
        self.null_timing = nn.Parameter(torch.zeros(D))
        self.blocks = nn.ModuleList(DiTBlock(D, heads, mlp_ratio) for _ in range(depth))
        self.final_norm = nn.LayerNorm(D, elementwise_affine=False, eps=1e-6)
        self.final_ada = nn.Linear(D, 2 * D)
        self.out = nn.Linear(D, p)
        for layer in (self.final_ada, self.out):                  # the output starts at exactly 0
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def null_condition(self, batch: int, device) -> torch.Tensor:
        """∅ of classifier-free guidance: the label num_classes (null pitch, timbre and timing)."""
        return torch.full((batch,), self.num_classes, dtype=torch.long, device=device)

    def condition(self, t, y, seconds_start=None, seconds_total=None) -> torch.Tensor:
        cfg, B = self.config, t.shape[0]
        D, P, K = cfg["hidden_size"], cfg["num_pitches"], cfg["num_timbres"]
        dt = self.patch.weight.dtype
        c = self.time(timestep_embedding(t, D).to(dt))
        if y is None:
            y = self.null_condition(B, t.device)
        null = y == self.num_classes
        yc = y.clamp(max=self.num_classes - 1)
        pitch = torch.where(null, P, yc % P)
        timbre = torch.where(null, K, (yc // P) % K)
        total = self.seconds[yc // (P * K)] if seconds_total is None else torch.as_tensor(
            seconds_total, dtype=torch.float32, device=t.device).expand(B)
        start = torch.zeros(B, device=t.device) if seconds_start is None else torch.as_tensor(
            seconds_start, dtype=torch.float32, device=t.device).expand(B)
        timing = self.timing(timing_features(start, total, D, cfg["max_seconds"]).to(t.device, dt))
        timing = torch.where(null[:, None], self.null_timing.to(dt), timing)
        return c + self.pitch(pitch) + self.timbre(timbre) + timing

    def forward(self, x: torch.Tensor, t: torch.Tensor, y: torch.Tensor | None = None,
                seconds_start=None, seconds_total=None) -> torch.Tensor:
        cfg = self.config
        check_inputs(self, x, t, (1, cfg["clip_samples"]), y, self.num_classes)
        B, p = x.shape[0], cfg["patch_size"]
        h = self.patch(x.reshape(B, -1, p)) + self.pos                          # (B, N/p, D)
        c = self.condition(t, y, seconds_start, seconds_total)
        for block in self.blocks:
            h = block(h, c)
        shift, scale = self.final_ada(F.silu(c)).chunk(2, dim=-1)
        return self.out(modulate(self.final_norm(h), shift, scale)).reshape(B, 1, -1)
