"""How well a fine-tuned model learned its concept, and what it forgot (lesson 11's table).

    fidelity    the share of samples that show the concept (``concepts.score`` > 0.5: the mark's pixels are
                bright, or the digit has both of the style's attributes), for prompts that ask for it
    forgetting  on ordinary prompts ("the digit seven", "a thick two", …): the digit accuracy by the course
                classifier and the attributes by their measurements (``text.prompt_agreement``, on the images with
                a mark erased: the classifier never saw one), and the share of
                samples that show the concept although nobody asked (language drift)
    diversity   the mean RMS pixel distance between two samples of the same prompt (the base model's value is
                the reference: a model that copies its four examples scores low)
    copying     ``nearest_distance``: each sample's RMS pixel distance to the nearest of the examples (a word
                that memorised its examples redraws them: distances near 0)
    ``share``   a rate with its binomial standard error √(p(1 − p)/n), for the lesson's comparisons
"""
from __future__ import annotations

import torch

from .._checks import check_batched
from ..images import sample_images
from ..text.captions import NAMES
from ..text.scores import prompt_agreement, summary
from .concepts import erase, score

ORDINARY = ("the digit {name}", "a thick {name}", "a thin {name}", "a slanted {name}")


def concept_prompts(word: str | None, n: int) -> list[str]:
    """n prompts asking for the concept on every digit in turn: "a [v] zero", … ("the digit zero", … for None,
    a model without a word for it)."""
    return [f"a {word} {NAMES[i % 10]}" if word else f"the digit {NAMES[i % 10]}" for i in range(n)]


def ordinary_prompts(n: int) -> list[str]:
    """n prompts that do not ask for it: the ``ORDINARY`` templates and the digits in turn."""
    return [ORDINARY[i % len(ORDINARY)].format(name=NAMES[i % 10]) for i in range(n)]


def diversity(images: torch.Tensor, prompts: list) -> float:
    """Mean over prompts of the mean RMS distance between two of its samples (prompts with ≥ 2 samples)."""
    groups: dict = {}
    for i, p in enumerate(prompts):
        groups.setdefault(p, []).append(i)
    ds = []
    for idx in groups.values():
        if len(idx) > 1:
            x = images[idx].flatten(1).double()
            d = torch.cdist(x, x) / x.shape[1] ** 0.5
            ds.append(d.sum() / (len(idx) * (len(idx) - 1)))
    return float(torch.stack(ds).mean()) if ds else float("nan")


def share(ok) -> tuple[float, float]:
    """(p, its standard error √(p(1 − p)/n)) of a boolean or 0/1 tensor (NaN entries, "not asked", left out)."""
    ok = torch.as_tensor(ok, dtype=torch.float64).flatten()
    ok = ok[~ok.isnan()]
    if ok.numel() == 0:
        raise ValueError("ok must hold at least one outcome (all are NaN or it is empty)")
    p = float(ok.mean())
    return p, (p * (1 - p) / ok.numel()) ** 0.5


def nearest_distance(images: torch.Tensor, examples: torch.Tensor) -> torch.Tensor:
    """(B,): each image's RMS pixel distance to the nearest example (images and examples (…, C, H, W) alike)."""
    check_batched("images", images)
    check_batched("examples", examples)
    if images.shape[1:] != examples.shape[1:]:
        raise ValueError(f"images {tuple(images.shape)} and examples {tuple(examples.shape)} must have the same "
                         "image shape")
    a, b = images.flatten(1).double().cpu(), examples.flatten(1).double().cpu()
    return (torch.cdist(a, b) / a.shape[1] ** 0.5).min(1).values


def measure(model, concept: str, concept_prompts: list, ordinary_prompts: list, classifier, w: float = 3.0,
            steps: int = 20, seed: int = 0) -> dict:
    """The table's row for one model: fidelity and diversity on ``concept_prompts``, forgetting and drift on
    ``ordinary_prompts``; also the samples (``"concept_images"``, ``"ordinary_images"``). The samples: DDIM-``steps``,
    one per prompt, from noise fixed by ``seed`` (the same for every model), in float32 whatever the hardware
    (``bf16=False``), 100 prompts a run."""
    xc = sample_images(model, list(concept_prompts), w, steps, seed=seed, bf16=False, batch=100)
    xo = sample_images(model, list(ordinary_prompts), w, steps, seed=seed + 1, bf16=False, batch=100)
    s_c, s_o = score(xc, concept), score(xo, concept)
    # the digit and attributes are read with the mark erased: the classifier never saw boxes
    concept_digits = summary(prompt_agreement(erase(xc, concept), list(concept_prompts), classifier))["digit"]
    ordinary = summary(prompt_agreement(erase(xo, concept), list(ordinary_prompts), classifier))
    return {"fidelity": float((s_c > 0.5).double().mean()), "concept_digit_accuracy": concept_digits,
            "diversity": diversity(xc, list(concept_prompts)), "digit_accuracy": ordinary["digit"],
            "stroke_accuracy": ordinary["stroke"], "slant_accuracy": ordinary["slant"],
            "drift": float((s_o > 0.5).double().mean()), "concept_images": xc, "ordinary_images": xo}
