"""A small U-Net denoiser ε_θ(x_t, t, y), drawn as in the lecture (Ho et al. 2020; Dhariwal & Nichol 2021).

    input ─ conv ─┬─ [ResBlock × n] ─ down ─┬─ … ─ [ResBlock, Attention, ResBlock] (middle) ─ … ─ up ─┬─ conv ─ ε̂
                  └──────── skip ───────────┴────────── concatenated on the way up ─────────────────┘

* ResBlock: GroupNorm → SiLU → conv, plus the (time + class) embedding projected and added, GroupNorm →
  SiLU → dropout → conv, and a residual connection.
* The embedding: sinusoidal(t) → MLP, plus a learned class embedding (summed, as the lecture says most
  models do). Class index ``num_classes`` is the "null" label used for classifier-free guidance.
* Self-attention at the resolutions listed in ``attn_resolutions`` (7×7 for MNIST).
* ``guidance=True`` adds a third input, the guidance scale w, embedded like t and added to the embedding
  (a guidance-distilled student, Meng et al. 2023: one pass instead of classifier-free guidance's two). Its
  last layer starts at zero, so a student copied from its teacher starts as the conditional teacher.

Shapes for MNIST with the defaults: (B, 1, 28, 28) → 32 ch @28 → 64 ch @14 → 64 ch @7 → back to (B, 1, 28, 28).
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from .._checks import check_int, check_real
from .attention import dot_product_attention
from .embedding import TimeEmbedding
from .registry import register
from ._inputs import check_inputs

W_SCALE = 100.0  # w ∈ [0, ~8] spread over the sinusoids' range, as t's 0 … 1000


def checked_config(image_size: int = 28, in_channels: int = 1, base_channels: int = 32, channel_mults: tuple = (1, 2, 2),
                   num_res_blocks: int = 1, attn_resolutions: tuple = (7,), num_classes: int = 10,
                   mid_attention: bool = True, dropout: float = 0.1, groups: int = 8, guidance: bool = False) -> dict:
    """A U-Net's configuration, checked (each bad value named), as the dict its checkpoint stores.

    num_classes 0: unconditional; mid_attention False: convolutions only in the middle block; guidance: a w input,
    the guidance scale of a guidance-distilled student."""
    for name, v in (("image_size", image_size), ("in_channels", in_channels), ("base_channels", base_channels),
                    ("num_res_blocks", num_res_blocks), ("groups", groups)):
        check_int(name, v, low=1)
    check_int("num_classes", num_classes, low=0)
    check_real("dropout", dropout, low=0, high=1, high_open=True)
    channel_mults, attn_resolutions = tuple(channel_mults), tuple(attn_resolutions)
    for i, m in enumerate(channel_mults):
        check_int(f"channel_mults[{i}]", m, low=1)
    if not channel_mults:
        raise ValueError("channel_mults must hold at least one level")
    for i, r in enumerate(attn_resolutions):
        check_int(f"attn_resolutions[{i}]", r, low=1)
    if image_size % (2 ** (len(channel_mults) - 1)):
        raise ValueError(f"image_size {image_size} must be divisible by 2^(levels−1)")
    if any(base_channels * m % groups for m in channel_mults):
        raise ValueError("every level's channel count must be divisible by groups")
    return dict(image_size=image_size, in_channels=in_channels, base_channels=base_channels, channel_mults=channel_mults,
                num_res_blocks=num_res_blocks, attn_resolutions=attn_resolutions, num_classes=num_classes,
                mid_attention=mid_attention, dropout=dropout, groups=groups, guidance=guidance)


class ResBlock(nn.Module):
    def __init__(self, cin: int, cout: int, emb_dim: int, dropout: float, groups: int):
        super().__init__()
        self.norm1, self.conv1 = nn.GroupNorm(groups, cin), nn.Conv2d(cin, cout, 3, padding=1)
        self.emb = nn.Linear(emb_dim, cout)
        self.norm2, self.conv2 = nn.GroupNorm(groups, cout), nn.Conv2d(cout, cout, 3, padding=1)
        self.drop = nn.Dropout(dropout)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()
        nn.init.zeros_(self.conv2.weight)  # each block starts as the identity: stable early training
        nn.init.zeros_(self.conv2.bias)

    def forward(self, x, emb):                                   # x: (B, cin, H, W), emb: (B, emb_dim)
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.emb(F.silu(emb))[:, :, None, None]           # the embedding, added in every block
        h = self.conv2(self.drop(F.silu(self.norm2(h))))
        return self.skip(x) + h


class Attention(nn.Module):
    """Single-head self-attention over the H·W positions of a feature map."""

    def __init__(self, ch: int, groups: int):
        super().__init__()
        self.norm, self.qkv, self.out = nn.GroupNorm(groups, ch), nn.Conv2d(ch, 3 * ch, 1), nn.Conv2d(ch, ch, 1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, x):
        B, C, H, W = x.shape
        qkv = self.qkv(self.norm(x)).reshape(B, 3, 1, C, H * W).transpose(-1, -2)     # (B, 3, 1 head, HW, C)
        # contiguous q, k, v: with a strided last dimension the CPU falls back to the unfused math kernel (6× slower)
        q, k, v = qkv.contiguous().unbind(1)                                              # (B, 1, HW, C) each
        h = dot_product_attention(q, k, v)[:, 0]                                          # (B, HW, C)
        return x + self.out(h.transpose(-1, -2).reshape(B, C, H, W))


@register
class UNet(nn.Module):
    def __init__(self, **config):
        """``config``: the keywords of ``checked_config`` (image_size, in_channels, base_channels, …)."""
        super().__init__()
        self.config = cfg = checked_config(**config)
        self.out_channels = cfg["in_channels"]  # what the network predicts has the input's channels
        self.num_classes = cfg["num_classes"]
        ch = [cfg["base_channels"] * m for m in cfg["channel_mults"]]
        self.time = TimeEmbedding(cfg["base_channels"])
        emb_dim = self.time.out_dim
        self.label = nn.Embedding(cfg["num_classes"] + 1, emb_dim) if cfg["num_classes"] else None
        self.guide = TimeEmbedding(cfg["base_channels"]) if cfg["guidance"] else None
        if self.guide is not None:
            nn.init.zeros_(self.guide.mlp[-1].weight)   # w changes nothing until the student learns it
            nn.init.zeros_(self.guide.mlp[-1].bias)
        block = lambda a, b: ResBlock(a, b, emb_dim, cfg["dropout"], cfg["groups"])  # noqa: E731

        self.inp = nn.Conv2d(cfg["in_channels"], ch[0], 3, padding=1)
        self.down, skips, c, res = nn.ModuleList(), [ch[0]], ch[0], cfg["image_size"]
        for i, cout in enumerate(ch):
            for _ in range(cfg["num_res_blocks"]):
                self.down.append(nn.ModuleList([block(c, cout), Attention(cout, cfg["groups"])
                                                if res in cfg["attn_resolutions"] else nn.Identity()]))
                c = cout
                skips.append(c)
            if i < len(ch) - 1:
                self.down.append(nn.Conv2d(c, c, 3, stride=2, padding=1))   # downsample ×2
                skips.append(c)
                res //= 2
        self.mid = nn.ModuleList([block(c, c), Attention(c, cfg["groups"]) if cfg["mid_attention"] else nn.Identity(),
                                  block(c, c)])
        self.up = nn.ModuleList()
        for i, cout in reversed(list(enumerate(ch))):
            for _ in range(cfg["num_res_blocks"] + 1):
                self.up.append(nn.ModuleList([block(c + skips.pop(), cout), Attention(cout, cfg["groups"])
                                              if res in cfg["attn_resolutions"] else nn.Identity()]))
                c = cout
            if i > 0:
                self.up.append(nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"),
                                             nn.Conv2d(c, c, 3, padding=1)))       # upsample ×2
                res *= 2
        self.out = nn.Sequential(nn.GroupNorm(cfg["groups"], c), nn.SiLU(), nn.Conv2d(c, self.out_channels, 3, padding=1))
        nn.init.zeros_(self.out[-1].weight)
        nn.init.zeros_(self.out[-1].bias)

    def null_condition(self, batch: int, device) -> torch.Tensor:
        """∅ of classifier-free guidance for ``batch`` samples: the learned null label num_classes."""
        return torch.full((batch,), self.num_classes, dtype=torch.long, device=device)

    def embed(self, t: torch.Tensor, y: torch.Tensor | None, w: torch.Tensor | None = None) -> torch.Tensor:
        emb = self.time(t)
        if self.label is not None:
            if y is None:  # unconditional: the learned null class
                y = self.null_condition(t.shape[0], t.device)
            emb = emb + self.label(y)
        if self.guide is not None:
            emb = emb + self.guide(w * W_SCALE)
        return emb

    def forward(self, x: torch.Tensor, t: torch.Tensor, y: torch.Tensor | None = None,
                w: torch.Tensor | None = None) -> torch.Tensor:
        c, s = self.config["in_channels"], self.config["image_size"]
        check_inputs(self, x, t, (c, s, s), y, self.num_classes)
        if self.guide is None and w is not None:
            raise ValueError("w was given but this UNet has no guidance input (guidance=False)")
        if self.guide is not None and (not torch.is_tensor(w) or w.shape != t.shape or not torch.isfinite(w).all()):
            raise ValueError(f"w: a guidance-distilled UNet needs a finite tensor of shape ({x.shape[0]},), one "
                             f"guidance scale per sample, got {tuple(w.shape) if torch.is_tensor(w) else w!r}")
        return self.trunk(self.inp(x), self.embed(t, y, w))

    def trunk(self, h: torch.Tensor, emb: torch.Tensor, context=None) -> torch.Tensor:
        """Everything after the input convolution: down, middle, up, output (h: (B, base_channels, H, W)).
        ``context``: what ``attend`` needs after each block's self-attention (a text U-Net's token features)."""
        hs = [h]
        for i, layer in enumerate(self.down):
            if isinstance(layer, nn.ModuleList):
                h = self.attend(layer[1](layer[0](h, emb)), f"down{i}", context)
            else:
                h = layer(h)
            hs.append(h)
        h = self.mid[2](self.attend(self.mid[1](self.mid[0](h, emb)), "mid", context), emb)
        for i, layer in enumerate(self.up):
            if isinstance(layer, nn.ModuleList):
                h = self.attend(layer[1](layer[0](torch.cat([h, hs.pop()], dim=1), emb)), f"up{i}", context)
            else:
                h = layer(h)
        return self.out(h)

    def attend(self, h: torch.Tensor, where: str, context) -> torch.Tensor:
        """A hook after every block: nothing here; the text U-Net adds cross-attention to the tokens."""
        return h
