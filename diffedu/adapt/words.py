"""New words for a text-conditioned model: the identifier of DreamBooth ("a [v] two") and the pseudo-word of
textual inversion ("a s* two").

Textual inversion (Gal et al. 2023, "An image is worth one word"): everything is frozen — the text encoder c_θ,
the denoiser ε_θ — except the embedding v of one new word S_*, found as

    v* = argmin_v  E_{z, y, ε, t} ‖ε − ε_θ(z_t, t, c_θ(y))‖²        y a prompt containing S_*

(the lecture writes ε_θ for the network's prediction; ours predicts v, the same loss in other units).
``add_words`` appends rows to the token table through ``WordEmbedding``: ids below the old vocabulary size read
the old (frozen) table, the new ids read ``.new`` — so "nothing else changes" holds by construction, not by
masking gradients. ``bake_words`` turns it back into a plain ``nn.Embedding`` (a checkpoint then builds the
network with the longer vocabulary).
"""
from __future__ import annotations

import torch
from torch import nn


class WordEmbedding(nn.Module):
    """A frozen ``nn.Embedding`` of n rows followed by k new vectors ``new`` (k, D): ids ≥ n read ``new``."""

    def __init__(self, base: nn.Embedding, new: torch.Tensor, trainable: bool = True):
        super().__init__()
        self.base = base.requires_grad_(False)
        self.new = nn.Parameter(new.detach().clone().to(base.weight), requires_grad=trainable)

    @property
    def weight(self) -> torch.Tensor:
        return torch.cat([self.base.weight, self.new])

    def forward(self, ids: torch.Tensor) -> torch.Tensor:               # (B, L) → (B, L, D)
        n = self.base.num_embeddings
        old = self.base(ids.clamp(max=n - 1))
        new = self.new[(ids - n).clamp(min=0)]
        return torch.where((ids >= n)[..., None], new, old)


def text_net(model) -> nn.Module:
    """The network with the text tower (a ``DiffusionModel``'s ``.net`` or the network itself)."""
    net = getattr(model, "net", model)
    if not hasattr(net, "text") or "vocab" not in getattr(net, "config", {}):
        raise ValueError(f"a text-conditioned network (a TextUNet) is needed, got {type(net).__name__}")
    return net


def add_words(model, words, init=None, trainable: bool = True, seed: int = 0):
    """Append ``words`` to the model's vocabulary. ``init``: a known word whose embedding each new one starts
    from (textual inversion starts from a coarse description, e.g. "digit"), a (k, D) tensor, or None for a
    random vector with the table's typical norm (DreamBooth's rare identifier). Returns the model."""
    net = text_net(model)
    words = [words] if isinstance(words, str) else list(words)
    vocab = net.config["vocab"]
    clash = [w for w in words if w in vocab or words.count(w) > 1 or w.lower() != w or not w or " " in w]
    if clash:
        raise ValueError(f"words must be new, distinct, lower-case and without spaces; not {clash}")
    embed = net.text.embed
    if isinstance(embed, WordEmbedding):
        raise ValueError("this model already has new words in training: bake_words(model) first")
    table, k = embed.weight.detach(), len(words)
    if init is None:
        g = torch.Generator().manual_seed(seed)
        v = torch.randn(k, table.shape[1], generator=g) * table.std()
    elif isinstance(init, str):
        if init not in vocab:
            raise ValueError(f"init word {init!r} is not in the vocabulary")
        v = table[net.tokenizer.stoi[init]].expand(k, -1)
    else:
        v = torch.as_tensor(init, dtype=table.dtype)
        if v.shape != (k, table.shape[1]):
            raise ValueError(f"init must have shape ({k}, {table.shape[1]}), got {tuple(v.shape)}")
    net.text.embed = WordEmbedding(embed, v, trainable)
    net.config["vocab"] = [*vocab, *words]
    return model


def new_words(model) -> list[str]:
    net = text_net(model)
    embed = net.text.embed
    return net.config["vocab"][len(net.config["vocab"]) - len(embed.new):] if isinstance(embed, WordEmbedding) else []


def bake_words(model):
    """Replace ``WordEmbedding`` by one ``nn.Embedding`` over the whole vocabulary (for saving); returns model."""
    net = text_net(model)
    embed = net.text.embed
    if isinstance(embed, WordEmbedding):
        table = nn.Embedding(*embed.weight.shape).to(embed.base.weight)
        with torch.no_grad():
            table.weight.copy_(embed.weight)
        net.text.embed = table.requires_grad_(embed.base.weight.requires_grad)
    return model


def freeze_all_but_words(model):
    """Textual inversion's setting: only the new words' embeddings train."""
    net = text_net(model)
    if not isinstance(net.text.embed, WordEmbedding):
        raise ValueError("no new words: add_words(model, ...) first")
    net.requires_grad_(False)
    net.text.embed.new.requires_grad_(True)
    return model
