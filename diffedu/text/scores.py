"""How well samples follow their prompts (lesson 10): the digit by an independent classifier, the stroke and
slant by the same measurements that wrote the captions (``attributes``)."""
from __future__ import annotations

import torch

from .captions import attributes, mentioned


@torch.no_grad()
def prompt_agreement(images: torch.Tensor, prompts: list, classifier) -> dict:
    """Per image: did the sample give what its prompt asked? {"digit", "stroke", "slant": (N,) float64, 1 agree,
    0 disagree, NaN not asked; "pred": (N,) the classifier's digits}."""
    if isinstance(prompts, str) or not isinstance(prompts, (list, tuple)) or \
            not all(isinstance(p, str) for p in prompts):
        raise ValueError(f"prompts must be a list of strings, one per image, got {type(prompts).__name__} "
                         f"{prompts!r:.80}")
    if len(prompts) != len(images):
        raise ValueError(f"one prompt per image: {len(prompts)} prompts for {len(images)} images")
    dev = next(classifier.parameters()).device
    classifier.eval()
    pred = torch.cat([classifier(images[i:i + 500].to(dev)).argmax(1).cpu() for i in range(0, len(images), 500)])
    asked = [mentioned(p) for p in prompts]
    got = attributes(images)
    out = {"pred": pred, "digit": torch.tensor([float("nan") if a["digit"] is None else float(a["digit"] == int(p))
                                                for a, p in zip(asked, pred)], dtype=torch.float64)}
    for key in ("stroke", "slant"):
        out[key] = torch.tensor([float("nan") if a[key] is None else float(a[key] == g[key])
                                 for a, g in zip(asked, got)], dtype=torch.float64)
    return out


def summary(agreement: dict) -> dict:
    """Each of digit, stroke and slant: the accuracy over the prompts that asked for it (NaN if none did)."""
    missing = [k for k in ("digit", "stroke", "slant") if not isinstance(agreement, dict) or k not in agreement]
    if missing:
        raise ValueError(f"agreement must be what prompt_agreement returns (a dict with 'digit', 'stroke' and "
                         f"'slant'), missing {missing}")
    out = {}
    for key in ("digit", "stroke", "slant"):
        v = agreement[key]
        out[key] = float(v[~v.isnan()].mean()) if (~v.isnan()).any() else float("nan")
    return out
