"""A text-conditioned U-Net ε_θ(x_t, t, c) with cross-attention (Rombach et al. 2022; PixArt-α, Chen et al.
2023, does the same inside a DiT): lesson 06's U-Net, plus

* a text encoder (``clip.TextTower``) that turns the prompt's tokens into features (B, L, D);
* **cross-attention** after the blocks at the low resolutions: queries from the image features, keys and values
  from the token features, so each position reads the words it needs:

      Q = W_q GN(h) (B, HW, C),  K = W_k c (B, L, C),  V = W_v c (B, L, C)
      h ← h + W_o softmax(Q Kᵀ/√d + mask) V          (padding tokens masked out; W_o starts at zero)

* the mean of the token features, projected and added to the time embedding (as Imagen does), so every block
  also knows the prompt as a whole.

The empty prompt (only <eos>) is the null condition of classifier-free guidance.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from .clip import TextTower, pool
from .registry import register
from .unet import ResBlock, UNet


def cross_attention(q, k, v, mask=None):
    """softmax(q kᵀ/√d) v over the keys, with keys where ``mask`` is False excluded.
    q (B, h, N, d), k and v (B, h, L, d), mask (B, L) → (output (B, h, N, d), weights (B, h, N, L))."""
    scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask[:, None, None, :], float("-inf"))
    w = scores.softmax(-1)
    return w @ v, w


class CrossAttention(nn.Module):
    def __init__(self, ch: int, ctx_dim: int, heads: int = 4, groups: int = 8):
        super().__init__()
        if ch % heads:
            raise ValueError(f"channels {ch} must be divisible by heads {heads}")
        self.heads = heads
        self.norm = nn.GroupNorm(groups, ch)
        self.q, self.k, self.v = nn.Linear(ch, ch), nn.Linear(ctx_dim, ch), nn.Linear(ctx_dim, ch)
        self.out = nn.Linear(ch, ch)
        nn.init.zeros_(self.out.weight)   # starts as the identity: the unconditional U-Net
        nn.init.zeros_(self.out.bias)

    def forward(self, x, ctx, mask=None, maps: list | None = None):
        B, C, H, W = x.shape
        split = lambda z: z.reshape(B, z.shape[1], self.heads, C // self.heads).transpose(1, 2)  # noqa: E731
        q = split(self.q(self.norm(x).flatten(2).transpose(1, 2)))               # (B, heads, HW, d)
        k, v = split(self.k(ctx)), split(self.v(ctx))                            # (B, heads, L, d)
        a, w = cross_attention(q, k, v, mask)
        if maps is not None:
            maps.append(w.mean(1).reshape(B, H, W, -1))                          # (B, H, W, L), heads averaged
        a = a.transpose(1, 2).reshape(B, H * W, C)
        return x + self.out(a).transpose(1, 2).reshape(B, C, H, W)


@register
class TextUNet(UNet):
    def __init__(self, vocab: list, length: int = 12, text_dim: int = 64, text_layers: int = 2, text_heads: int = 4,
                 cross_attn_resolutions: tuple = (14, 7), cross_heads: int = 4, freeze_text: bool = True, **config):
        config["num_classes"] = 0
        super().__init__(**config)
        self.text = TextTower(len(vocab) + 2, length, text_dim, text_layers, text_heads)
        self.text.requires_grad_(not freeze_text)  # frozen: a pretrained encoder (the CLIP's), kept as it is
        self.text_emb = nn.Linear(text_dim, self.time.out_dim)
        cross_attn_resolutions = tuple(cross_attn_resolutions)
        self.config.update(vocab=list(vocab), length=length, text_dim=text_dim, text_layers=text_layers,
                           text_heads=text_heads, cross_attn_resolutions=cross_attn_resolutions,
                           cross_heads=cross_heads, freeze_text=freeze_text)
        self.cross = nn.ModuleDict()
        res, groups = self.config["image_size"], self.config["groups"]
        for name, layers in (("down", self.down), ("mid", None), ("up", self.up)):
            for i, layer in enumerate(layers if layers is not None else [self.mid[0]]):
                key = "mid" if layers is None else f"{name}{i}"
                if isinstance(layer, ResBlock) or isinstance(layer, nn.ModuleList):
                    ch = (layer if isinstance(layer, ResBlock) else layer[0]).conv2.out_channels
                    if res in cross_attn_resolutions:
                        self.cross[key] = CrossAttention(ch, text_dim, cross_heads, groups)
                elif isinstance(layer, nn.Conv2d):
                    res //= 2                                                        # a downsampling conv
                else:
                    res *= 2                                                         # upsample + conv

    @property
    def tokenizer(self):
        from .tokenizer import Tokenizer

        return Tokenizer(self.config["vocab"], self.config["length"])

    def empty_prompt(self, batch: int, device) -> torch.Tensor:
        """The tokens of "" (just <eos>): the null condition."""
        tokens = torch.zeros(batch, self.config["length"], dtype=torch.long, device=device)
        tokens[:, 0] = 1
        return tokens

    def null_condition(self, batch: int, device) -> torch.Tensor:
        """∅ of classifier-free guidance for ``batch`` samples: the empty prompt."""
        return self.empty_prompt(batch, device)

    def attend(self, h, where, context):
        if context is None or where not in self.cross:
            return h
        return self.cross[where](h, context["h"], context["mask"], context.get("maps"))

    def forward(self, x: torch.Tensor, t: torch.Tensor, y: torch.Tensor | None = None,
                attention_maps: bool = False):
        """x_t (B, C, H, W), t (B,), y the prompts' tokens (B, L) from ``self.tokenizer.encode`` (None: the empty
        prompt; ``y`` as for a class-conditional network, so losses and models pass it the same way).
        attention_maps=True also returns the cross-attention weights of every layer, each (B, h, w, L)."""
        from ._inputs import check_inputs

        c, s = self.config["in_channels"], self.config["image_size"]
        check_inputs(self, x, t, (c, s, s))
        tokens = self.empty_prompt(x.shape[0], x.device) if y is None else y
        if tokens.shape[0] != x.shape[0]:
            raise ValueError(f"TextUNet: tokens must have one row per sample ({x.shape[0]}), got {tokens.shape[0]}")
        th, mask = self.text(tokens)
        emb = self.time(t) + self.text_emb(pool(th, mask))
        maps = [] if attention_maps else None
        out = self.trunk(self.inp(x), emb, {"h": th, "mask": mask, "maps": maps})
        return (out, maps) if attention_maps else out
