"""A small CLIP for digits and their captions (Radford et al. 2021, "Learning transferable visual models from
natural language supervision"), with GLIDE's noised image tower (Nichol et al. 2022) so one model serves both
zero-shot classification (t = 0, clean images) and CLIP guidance (any t).

    text:  tokens (B, L) → embedding + position → transformer encoder → mean over the words → g(c) ∈ ℝ^D
    image: x_t (B, 1, 28, 28), t → lesson 07's noisy-classifier body (28 → 14 → 7, t-embedded) → f(x_t, t) ∈ ℝ^D

Both embeddings are normalised; the similarity of image i and caption j is s_ij = e^τ ⟨f_i, g_j⟩ with a learned
temperature τ (CLIP's logit scale, initialised to log 1/0.07). Training is contrastive (``diffedu.text.clip``).
``TextTower`` is also the text encoder of the text-conditioned U-Net (``text_unet``).
"""
from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from .classifier import NoisyClassifier
from .registry import register


class TextTower(nn.Module):
    """Token embedding + learned positions + a pre-norm transformer encoder: (B, L) ids → (B, L, D) features and
    the (B, L) mask of real tokens (words and <eos>; <pad> is masked out of attention and pooling)."""

    def __init__(self, vocab_size: int, length: int, dim: int, layers: int, heads: int):
        super().__init__()
        self.length = length
        self.embed = nn.Embedding(vocab_size, dim)
        self.pos = nn.Parameter(0.02 * torch.randn(length, dim))
        layer = nn.TransformerEncoderLayer(dim, heads, 4 * dim, dropout=0.0, batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(dim)

    def forward(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if not torch.is_tensor(tokens) or tokens.dtype != torch.long or tokens.ndim != 2 or \
                tokens.shape[1] != self.length:
            got = f"{tuple(tokens.shape)} {tokens.dtype}" if torch.is_tensor(tokens) else type(tokens).__name__
            raise ValueError(f"tokens must be int64 of shape (batch, {self.length}) (Tokenizer.encode), got {got}")
        n = len(self.embed.weight)                     # the vocabulary, with any words added by diffedu.adapt
        if tokens.numel() and (tokens.min() < 0 or tokens.max() >= n):
            raise ValueError(f"tokens must be token ids in [0, {n - 1}] (the tokenizer's vocabulary), got values in "
                             f"[{int(tokens.min())}, {int(tokens.max())}]")
        mask = tokens != 0
        h = self.embed(tokens) + self.pos
        return self.norm(self.encoder(h, src_key_padding_mask=~mask)), mask


def pool(h: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of the features of the real tokens: (B, L, D), (B, L) → (B, D)."""
    m = mask.to(h.dtype)[..., None]
    return (h * m).sum(1) / m.sum(1).clamp(min=1)


@register
class CLIP(nn.Module):
    def __init__(self, vocab: list, length: int = 12, dim: int = 64, layers: int = 2, heads: int = 4,
                 width: int = 32):
        super().__init__()
        self.config = dict(vocab=list(vocab), length=length, dim=dim, layers=layers, heads=heads, width=width)
        self.text = TextTower(len(vocab) + 2, length, dim, layers, heads)   # + <pad>, <eos>
        self.text_proj = nn.Linear(dim, dim)
        self.image = NoisyClassifier(base_channels=width, num_classes=dim)  # f(x_t, t): lesson 07's body, a D-wide head
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))

    @property
    def tokenizer(self):
        from .tokenizer import Tokenizer

        return Tokenizer(self.config["vocab"], self.config["length"])

    def encode_text(self, tokens: torch.Tensor) -> torch.Tensor:
        """g(c): (B, L) ids → (B, D), unit norm."""
        return F.normalize(self.text_proj(pool(*self.text(tokens))), dim=-1)

    def encode_image(self, x: torch.Tensor, t: torch.Tensor | None = None) -> torch.Tensor:
        """f(x_t, t): (B, 1, 28, 28) → (B, D), unit norm; t = None means clean images (t = 0)."""
        if not torch.is_tensor(x) or x.ndim != 4 or tuple(x.shape[1:]) != (1, 28, 28):
            raise ValueError(f"x must have shape (batch, 1, 28, 28), got "
                             f"{tuple(x.shape) if torch.is_tensor(x) else type(x).__name__}")
        t = torch.zeros(x.shape[0], dtype=torch.long, device=x.device) if t is None else t
        return F.normalize(self.image(x, t), dim=-1)

    def forward(self, x: torch.Tensor, tokens: torch.Tensor, t: torch.Tensor | None = None) -> torch.Tensor:
        """The (B_images, B_texts) similarity logits e^τ ⟨f(x_t, t), g(c)⟩."""
        return self.logit_scale.exp() * self.encode_image(x, t) @ self.encode_text(tokens).T
