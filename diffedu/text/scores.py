"""How well samples follow their prompts (lesson 10): the digit by an independent classifier, the stroke and
slant by the same measurements that wrote the captions (``attributes``)."""
from __future__ import annotations

import torch

from .captions import attributes, mentioned


@torch.no_grad()
def prompt_agreement(images: torch.Tensor, prompts: list, classifier) -> dict:
    """Per image: did the sample give what its prompt asked? {"digit": (N,) bool, "stroke": (N,) float
    (1 agree, 0 disagree, NaN not asked), "slant": same, "pred": (N,) the classifier's digits}."""
    if len(prompts) != len(images):
        raise ValueError(f"one prompt per image: {len(prompts)} prompts for {len(images)} images")
    dev = next(classifier.parameters()).device
    classifier.eval()
    pred = torch.cat([classifier(images[i:i + 500].to(dev)).argmax(1).cpu() for i in range(0, len(images), 500)])
    asked = [mentioned(p) for p in prompts]
    got = attributes(images)
    out = {"pred": pred, "digit": torch.tensor([a["digit"] == int(p) for a, p in zip(asked, pred)])}
    for key in ("stroke", "slant"):
        out[key] = torch.tensor([float("nan") if a[key] is None else float(a[key] == g[key])
                                 for a, g in zip(asked, got)], dtype=torch.float64)
    return out


def summary(agreement: dict) -> dict:
    """Digit accuracy, and each attribute's accuracy over the prompts that asked for it (NaN if none did)."""
    out = {"digit": float(agreement["digit"].double().mean())}
    for key in ("stroke", "slant"):
        v = agreement[key]
        out[key] = float(v[~v.isnan()].mean()) if (~v.isnan()).any() else float("nan")
    return out
