"""Contrastive pre-training of the small CLIP (``diffedu.models.clip``) and what it is for (lesson 10).

In a batch of B matching (image, caption) pairs, the similarity matrix s_ij = e^τ ⟨f(x_i), g(c_j)⟩ should have
its largest entries on the diagonal: ``info_nce`` asks each image to pick its own caption among the B (rows) and
each caption its image (columns). ``zero_shot`` classifies digits with prompts instead of a classifier head.
"""
from __future__ import annotations

import torch
from torch.nn import functional as F

from .._checks import check_finite, check_int
from ..models.clip import CLIP


def info_nce(logits: torch.Tensor) -> torch.Tensor:
    """The symmetric InfoNCE loss of CLIP: logits (B, B), pair i matches pair i;
    ½ [CE(rows, i) + CE(columns, i)] — image → caption and caption → image classification among the batch."""
    check_finite("logits", logits)
    if logits.ndim != 2 or logits.shape[0] != logits.shape[1]:
        raise ValueError(f"logits must be a square (B, B) matrix of similarities, got {tuple(logits.shape)}")
    target = torch.arange(logits.shape[0], device=logits.device)
    return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target))


@torch.no_grad()
def zero_shot(clip: CLIP, x: torch.Tensor, template: str = "the digit {name}", batch: int = 500) -> torch.Tensor:
    """Digit predictions without a classifier head: the class whose prompt (``template`` with each digit's
    name) is most similar to the image. (N,) int64."""
    from .captions import NAMES

    if not isinstance(clip, CLIP):
        raise TypeError(f"clip must be a diffedu CLIP (e.g. pretrained('mnist-clip')), got {type(clip).__name__}")
    batch = check_int("batch", batch, low=1)
    try:
        prompts = [template.format(name=n, digit=d) for d, n in enumerate(NAMES)]
    except (AttributeError, KeyError, IndexError, ValueError):
        raise ValueError(f"template must be a string with the fields {{name}} and/or {{digit}} (e.g. 'the digit "
                         f"{{name}}'), got {template!r}") from None
    dev = next(clip.parameters()).device
    txt = clip.encode_text(clip.tokenizer.encode(prompts).to(dev))
    return torch.cat([(clip.encode_image(x[i:i + batch].to(dev)) @ txt.T).argmax(1).cpu()
                      for i in range(0, len(x), batch)])
