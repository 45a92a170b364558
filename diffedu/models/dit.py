"""The Diffusion Transformer, DiT (Peebles & Xie 2023, "Scalable Diffusion Models with Transformers"),
written from the paper: a Vision Transformer over image patches, conditioned through adaLN-Zero.

    x (B, C, H, W) ─ patchify (p×p patches, a linear map each) + positional embedding ─→ tokens (B, N, D),
                     N = (H/p)(W/p)
    c = embed(t) + embed(y)                                        (B, D), y = num_classes is the null label ∅
    N × block:  x ← x + g₁ ⊙ Attention(LN(x) ⊙ (1 + s₁) + b₁)
                x ← x + g₂ ⊙ MLP(LN(x) ⊙ (1 + s₂) + b₂)           (b, s, g) = Linear(SiLU(c)), per block
    final:      LN(x) ⊙ (1 + s) + b → Linear(D → p·p·C) → unpatchify → the prediction (B, C, H, W)

adaLN-Zero: the LayerNorms have no learned scale or shift of their own; each block regresses its shift b,
scale s and gate g from the conditioning, and those regressions start at zero. A zero gate makes every block
the identity at initialisation (and the zero final layer makes the output 0), which Peebles & Xie found to
train best. Cost: attention is quadratic in N = HW/p², so halving p multiplies its cost by 16.
"""
from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from .._checks import check_int, check_real
from ._inputs import check_inputs
from .attention import dot_product_attention
from .embedding import timestep_embedding
from .registry import register


def patchify(x: torch.Tensor, p: int) -> torch.Tensor:
    """(B, C, H, W) → (B, N, p·p·C): non-overlapping p×p patches in row-major order, each flattened (p, p, C)."""
    B, C, H, W = x.shape
    if H % p or W % p:
        raise ValueError(f"image size {H}×{W} must be divisible by the patch size {p}")
    x = x.reshape(B, C, H // p, p, W // p, p).permute(0, 2, 4, 3, 5, 1)   # (B, H/p, W/p, p, p, C)
    return x.reshape(B, (H // p) * (W // p), p * p * C)


def unpatchify(tokens: torch.Tensor, p: int, channels: int, height: int, width: int) -> torch.Tensor:
    """The inverse of ``patchify``: (B, N, p·p·C) → (B, C, H, W)."""
    B = tokens.shape[0]
    x = tokens.reshape(B, height // p, width // p, p, p, channels).permute(0, 5, 1, 3, 2, 4)
    return x.reshape(B, channels, height, width)


def sincos_2d(grid: int, dim: int) -> torch.Tensor:
    """Fixed 2-D sine-cosine positional embedding (grid², dim): half the features for rows, half for columns."""
    if dim % 4:
        raise ValueError(f"hidden size must be divisible by 4 for the 2-D positional embedding, got {dim}")
    pos = torch.arange(grid, dtype=torch.float64)
    rows = timestep_embedding(pos, dim // 2).to(torch.float64)                # (grid, dim/2)
    emb = torch.cat([rows[:, None, :].expand(grid, grid, -1), rows[None, :, :].expand(grid, grid, -1)], -1)
    return emb.reshape(grid * grid, dim).float()


def modulate(x: torch.Tensor, shift: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """adaLN: LN(x) ⊙ (1 + scale) + shift, with one (shift, scale) per sample broadcast over the tokens."""
    return x * (1 + scale[:, None]) + shift[:, None]


class DiTBlock(nn.Module):
    def __init__(self, dim: int, heads: int, mlp_ratio: float = 4.0):
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
        self.qkv, self.proj = nn.Linear(dim, 3 * dim), nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
        hidden = int(dim * mlp_ratio)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(approximate="tanh"), nn.Linear(hidden, dim))
        self.ada = nn.Linear(dim, 6 * dim)        # c → (b₁, s₁, g₁, b₂, s₂, g₂)
        nn.init.zeros_(self.ada.weight)           # adaLN-Zero: every gate starts at 0, the block at the identity
        nn.init.zeros_(self.ada.bias)

    def attention(self, h: torch.Tensor, weights: bool = False):
        B, N, D = h.shape
        q, k, v = self.qkv(h).reshape(B, N, 3, self.heads, D // self.heads).permute(2, 0, 3, 1, 4)  # (B, heads, N, d)
        if weights:  # the attention map itself, for the lesson's figure: (B, heads, N, N)
            a = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1]), dim=-1)
            return self.proj((a @ v).transpose(1, 2).reshape(B, N, D)), a
        out = dot_product_attention(q, k, v)
        return self.proj(out.transpose(1, 2).reshape(B, N, D)), None

    def forward(self, x: torch.Tensor, c: torch.Tensor, weights: bool = False):
        b1, s1, g1, b2, s2, g2 = self.ada(F.silu(c)).chunk(6, dim=-1)          # (B, D) each
        a, maps = self.attention(modulate(self.norm1(x), b1, s1), weights)
        x = x + g1[:, None] * a
        x = x + g2[:, None] * self.mlp(modulate(self.norm2(x), b2, s2))
        return (x, maps) if weights else x


@register
class DiT(nn.Module):
    """The denoiser's prediction (ε̂, x̂_0 or v̂: whatever its recipe trained; the shipped DiTs predict v) at (x_t, t, y),
    as a transformer over p×p patches; ``config`` as the constructor's arguments."""

    def __init__(self, image_size: int = 32, in_channels: int = 3, patch_size: int = 4, hidden_size: int = 128,
                 depth: int = 6, heads: int = 4, mlp_ratio: float = 4.0, num_classes: int = 10):
        super().__init__()
        for name, v in (("image_size", image_size), ("in_channels", in_channels), ("patch_size", patch_size),
                        ("hidden_size", hidden_size), ("depth", depth), ("heads", heads)):
            check_int(name, v, low=1)
        check_int("num_classes", num_classes, low=0)
        check_real("mlp_ratio", mlp_ratio, low=0, low_open=True)
        if image_size % patch_size:
            raise ValueError(f"image_size {image_size} must be divisible by patch_size {patch_size}")
        if hidden_size % heads:
            raise ValueError(f"hidden_size {hidden_size} must be divisible by heads {heads}")
        self.config = dict(image_size=image_size, in_channels=in_channels, patch_size=patch_size,
                           hidden_size=hidden_size, depth=depth, heads=heads, mlp_ratio=mlp_ratio,
                           num_classes=num_classes)
        self.num_classes, D, p = num_classes, hidden_size, patch_size
        self.patch = nn.Linear(p * p * in_channels, D)                          # one linear map per patch
        self.register_buffer("pos", sincos_2d(image_size // p, D), persistent=False)
        self.time = nn.Sequential(nn.Linear(D, D), nn.SiLU(), nn.Linear(D, D))   # on the sinusoidal t features
        self.label = nn.Embedding(num_classes + 1, D) if num_classes else None  # + 1: the null label ∅
        self.blocks = nn.ModuleList(DiTBlock(D, heads, mlp_ratio) for _ in range(depth))
        self.final_norm = nn.LayerNorm(D, elementwise_affine=False, eps=1e-6)
        self.final_ada = nn.Linear(D, 2 * D)
        self.out = nn.Linear(D, p * p * in_channels)
        for layer in (self.final_ada, self.out):  # the network's output starts at exactly 0
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def null_condition(self, batch: int, device) -> torch.Tensor:
        """∅ of classifier-free guidance for ``batch`` samples: the learned null label num_classes."""
        return torch.full((batch,), self.num_classes, dtype=torch.long, device=device)

    def condition(self, t: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        c = self.time(timestep_embedding(t, self.config["hidden_size"]).to(self.patch.weight.dtype))
        if self.label is not None:
            if y is None:
                y = self.null_condition(t.shape[0], t.device)
            c = c + self.label(y)
        return c

    def forward(self, x: torch.Tensor, t: torch.Tensor, y: torch.Tensor | None = None,
                attention_maps: bool = False):
        cfg = self.config
        check_inputs(self, x, t, (cfg["in_channels"], cfg["image_size"], cfg["image_size"]), y, self.num_classes)
        p = cfg["patch_size"]
        h = self.patch(patchify(x, p)) + self.pos                                # (B, N, D)
        h, maps = self.blocks_and_head(h, self.condition(t, y), attention_maps)   # (B, N, p·p·C)
        out = unpatchify(h, p, cfg["in_channels"], cfg["image_size"], cfg["image_size"])
        return (out, maps) if attention_maps else out

    def blocks_and_head(self, h: torch.Tensor, c: torch.Tensor, attention_maps: bool = False):
        """Tokens h (B, N, D) through the adaLN-Zero blocks and the modulated output layer, conditioned on c (B, D):
        (B, N, patch values) and the attention maps (an empty list unless asked). Shared by every DiT's forward."""
        maps = []
        for block in self.blocks:
            if attention_maps:
                h, m = block(h, c, weights=True)
                maps.append(m)
            else:
                h = block(h, c)
        shift, scale = self.final_ada(F.silu(c)).chunk(2, dim=-1)
        return self.out(modulate(self.final_norm(h), shift, scale)), maps
