"""A Diffusion Transformer over spacetime patches: lesson 08's DiT (Peebles & Xie 2023) with tokens cut from a
clip in time as well as in space — the idea OpenAI's Sora technical report (Brooks et al. 2024, "Video
generation models as world simulators") names "spacetime patches".

    x (B, T, C, H, W) ─ patchify3d: pt×p×p boxes (pt frames, p rows, p columns), a linear map each
                       + positional embedding ─→ tokens (B, N, D),   N = (T/pt)(H/p)(W/p)
    then exactly the DiT: c = embed(t) + embed(y); depth × DiTBlock (adaLN-Zero: ``modulate``, the gates);
    LN(x) ⊙ (1 + s) + b → Linear(D → pt·p·p·C) → unpatchify3d → the prediction (B, T, C, H, W)

Nothing in a block knows about time: self-attention mixes all N tokens, so a token of frame 0 attends to
frame 7 as easily as to its neighbour. Where a token sits in the clip is only in the positional embedding,
here the image DiT's fixed 2-D sine-cosine table plus a sinusoidal embedding of the token's frame index
(factorised, added). The cost is the image DiT's at N tokens: 8 frames of 32×32 in (2, 4, 4) patches are
4 · 8 · 8 = 256 tokens, 4× one frame's 64 — and attention's N² part 16×.
"""
from __future__ import annotations

import torch
from torch import nn

from .._checks import check_int
from ._inputs import check_inputs
from .dit import DiT, sincos_2d
from .embedding import timestep_embedding
from .registry import register


def _grid(shape, pt: int, p: int, name: str = "x"):
    T, H, W = shape
    if T % pt or H % p or W % p:
        raise ValueError(f"{name}: a clip of {T} frames of {H}×{W} must be divisible by the patch "
                         f"(pt, p, p) = ({pt}, {p}, {p})")
    return T // pt, H // p, W // p


def patchify3d(x: torch.Tensor, pt: int, p: int) -> torch.Tensor:
    """Clips (B, T, C, H, W) → tokens (B, N, pt·p·p·C), N = (T/pt)(H/p)(W/p).

    The tokens come in (frame block, row, column) order — all patches of frames 0..pt−1 row by row, then the
    next pt frames —, each box flattened in (frame, row, column, channel) order: ``patchify``'s (p, p, C) with
    the frame in front."""
    if not torch.is_tensor(x) or x.ndim != 5:
        raise ValueError(f"x must be clips (B, T, C, H, W), got "
                         f"{tuple(x.shape) if torch.is_tensor(x) else type(x).__name__}")
    check_int("pt", pt, low=1)
    check_int("p", p, low=1)
    B, T, C, H, W = x.shape
    nt, nh, nw = _grid((T, H, W), pt, p)
    x = x.reshape(B, nt, pt, C, nh, p, nw, p).permute(0, 1, 4, 6, 2, 5, 7, 3)   # (B, nt, nh, nw, pt, p, p, C)
    return x.reshape(B, nt * nh * nw, pt * p * p * C)


def unpatchify3d(tokens: torch.Tensor, pt: int, p: int, frames: int, channels: int, height: int,
                 width: int) -> torch.Tensor:
    """The inverse of ``patchify3d``: tokens (B, N, pt·p·p·C) → clips (B, T, C, H, W)."""
    nt, nh, nw = _grid((frames, height, width), pt, p, "the clip")
    if not torch.is_tensor(tokens) or tokens.ndim != 3 or tokens.shape[1:] != (nt * nh * nw, pt * p * p * channels):
        raise ValueError(f"tokens must be (B, {nt * nh * nw}, {pt * p * p * channels}) for {frames} frames of "
                         f"{channels}×{height}×{width} in ({pt}, {p}, {p}) patches, got "
                         f"{tuple(tokens.shape) if torch.is_tensor(tokens) else type(tokens).__name__}")
    B = tokens.shape[0]
    x = tokens.reshape(B, nt, nh, nw, pt, p, p, channels).permute(0, 1, 4, 7, 2, 5, 3, 6)  # (B, nt, pt, C, nh, p, nw, p)
    return x.reshape(B, frames, channels, height, width)


def sincos_3d(frames: int, grid: int, dim: int) -> torch.Tensor:
    """Fixed positional embedding (frames·grid², dim) for the (frame block, row, column) token order: the image
    DiT's 2-D table of each position in the frame plus the sinusoidal embedding of the frame block."""
    space = sincos_2d(grid, dim)                                                # (grid², dim)
    time = timestep_embedding(torch.arange(frames, dtype=torch.float64), dim).float()   # (frames, dim)
    return (time[:, None, :] + space[None]).reshape(frames * grid * grid, dim)


@register
class VideoDiT(DiT):
    """The DiT's prediction at (x_t, t, y) for clips x (B, T, C, H, W): tokens are pt×p×p spacetime boxes;
    ``config`` holds the constructor's arguments (``frame_patch`` is pt). Everything after the tokens — the
    time and label embeddings, the null label ∅, the adaLN-Zero blocks and the zero final layer — is the
    image DiT's own code."""

    def __init__(self, frames: int = 8, image_size: int = 32, in_channels: int = 1, frame_patch: int = 2,
                 patch_size: int = 4, hidden_size: int = 128, depth: int = 4, heads: int = 4, mlp_ratio: float = 4.0,
                 num_classes: int = 10):
        check_int("frames", frames, low=1)
        check_int("frame_patch", frame_patch, low=1)
        if frames % frame_patch:
            raise ValueError(f"frames {frames} must be divisible by frame_patch {frame_patch}")
        super().__init__(image_size, in_channels, patch_size, hidden_size, depth, heads, mlp_ratio, num_classes)
        self.config = dict(frames=frames, frame_patch=frame_patch, **self.config)
        box = frame_patch * patch_size * patch_size * in_channels
        self.patch = nn.Linear(box, hidden_size)                   # one linear map per spacetime box
        self.out = nn.Linear(hidden_size, box)
        nn.init.zeros_(self.out.weight)                            # the output starts at exactly 0, as the DiT's
        nn.init.zeros_(self.out.bias)
        self.register_buffer("pos", sincos_3d(frames // frame_patch, image_size // patch_size, hidden_size),
                             persistent=False)

    @property
    def tokens(self) -> int:
        """N = (T/pt)(H/p)(W/p)."""
        c = self.config
        return (c["frames"] // c["frame_patch"]) * (c["image_size"] // c["patch_size"]) ** 2

    def forward(self, x: torch.Tensor, t: torch.Tensor, y: torch.Tensor | None = None,
                attention_maps: bool = False):
        c = self.config
        check_inputs(self, x, t, (c["frames"], c["in_channels"], c["image_size"], c["image_size"]), y,
                     self.num_classes)
        pt, p = c["frame_patch"], c["patch_size"]
        h = self.patch(patchify3d(x, pt, p)) + self.pos                         # (B, N, D)
        h, maps = self.blocks_and_head(h, self.condition(t, y), attention_maps)   # DiT's own blocks and head
        out = unpatchify3d(h, pt, p, c["frames"], c["in_channels"], c["image_size"], c["image_size"])
        return (out, maps) if attention_maps else out
