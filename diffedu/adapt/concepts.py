"""The new concepts of lesson 11, made from MNIST so they are reproducible, and how to tell them in a sample.

* **boxed**: the digit inside a one-pixel box drawn on rows/columns 1 and 26 of the 28×28 image;
* **dotted**: a 3×3 dot in the top-right corner (rows 2–4, columns 23–25);
* **backhand**: a style, not a mark — a heavy hand leaning left (thickness ≥ 2.33 px and slant ≤ −0.12, the
  caption bins "thick" and "leaning left" of ``text.captions``).

Neither mark has a word in lesson 10's vocabulary, and neither occurs in MNIST (fewer than 1 % of the ink pixels
of the training digits fall on the box; the corner is as empty), so nothing the text model has learned draws
them: they are *outside* the model's range. The backhand is *inside* it: "a bold backslanted two" draws it
(95 % of samples), "the digit two" rarely (3 %; 5.7 % of MNIST's test digits are written so) — it has no word
of its own, but two words describe it. The lesson needs both kinds: what can only re-route what the model
already draws (textual inversion, LoRA on Q and K) can learn the style, not the box. Each concept's examples are
four test digits (``EXAMPLES``): the marks drawn on, or — the style — the first of each digit written in an
exaggerated backhand (thickness ≥ 2.8 px, slant ≤ −0.2: 1.4 % of the test set); the handful of pictures a user
would bring.

A fourth concept is a **subject** rather than a look: ``four``, four plain fours (thin and upright, test digits
19, 65, 109, 115), for a word that carries *what* is drawn — composed with a style word in one prompt ("a s_style
s_four": the paper's "S_clock in the style of S_style"). A subject has no closed-form detector: its digit is read
by the course classifier (``text.prompt_agreement``), so ``score`` refuses it.

The detectors are closed forms, not learned: a mark's **score** is the mean brightness of its pixels, mapped to
[0, 1] (0 black, 1 white); the style's is the share of its two attributes the image has (0, ½ or 1). An image
"has" the concept when the score exceeds 0.5. On the MNIST test digits the box scores 0.01 on average and the
dot 0.02; on the examples, 1.
"""
from __future__ import annotations

import torch

from .._checks import check_batched

EXAMPLES = {"boxed": (2, 3, 5, 8), "dotted": (0, 4, 6, 9), "backhand": (2, 3, 6, 9),  # the digits they show
            "four": (4, 4, 4, 4)}
# their indices in MNIST's test set: the first of each digit (a mark's), the first in an exaggerated backhand
_FIRST = {"boxed": {2: 1, 3: 18, 5: 8, 8: 61}, "dotted": {0: 3, 4: 4, 6: 11, 9: 7},
          "backhand": {2: 513, 3: 437, 6: 461, 9: 209}}
STYLES = {"backhand": {"stroke": "thick", "slant": "left"}}    # a style: the attribute bins it is made of
SUBJECTS = {"four": (19, 65, 109, 115)}   # a subject: its examples' indices in the test set (thin, upright fours)


def _check(concept: str) -> None:
    if concept not in EXAMPLES:
        raise ValueError(f"concept must be one of {', '.join(map(repr, EXAMPLES))}, got {concept!r}")


def _mask(concept: str, device=None) -> torch.Tensor:
    _check(concept)
    if concept in STYLES or concept in SUBJECTS:
        kind = "a style" if concept in STYLES else "a subject"
        raise ValueError(f"concept {concept!r} is {kind}: it has no mark to draw or erase")
    m = torch.zeros(28, 28, dtype=torch.bool, device=device)
    if concept == "boxed":
        m[1, 1:27] = m[26, 1:27] = m[1:27, 1] = m[1:27, 26] = True
    elif concept == "dotted":
        m[2:5, 23:26] = True
    return m


def draw(x: torch.Tensor, concept: str) -> torch.Tensor:
    """The digits x (B, 1, 28, 28) in [−1, 1] with the concept's mark drawn in white."""
    check_batched("x", x)
    if tuple(x.shape[1:]) != (1, 28, 28):
        raise ValueError(f"x must have shape (batch, 1, 28, 28), got {tuple(x.shape)}")
    return x.masked_fill(_mask(concept, x.device), 1.0)


def erase(x: torch.Tensor, concept: str) -> torch.Tensor:
    """The mark's pixels set to the background (−1): what a digit classifier should see (a box is not ink it
    knows; the course classifier reads a boxed two as anything)."""
    check_batched("x", x)
    _check(concept)
    return x.clone() if concept in STYLES or concept in SUBJECTS else x.masked_fill(_mask(concept, x.device), -1.0)


def score(x: torch.Tensor, concept: str) -> torch.Tensor:
    """(B,) in [0, 1], ≈ 0 without the concept, 1 with it: a mark's mean brightness, or the share of a style's
    attributes the digit has (``text.captions.attributes``: stroke and slant measured on the ink)."""
    check_batched("x", x)
    _check(concept)
    if concept in SUBJECTS:
        raise ValueError(f"concept {concept!r} is a subject (a digit), with no closed-form detector: read its digit "
                         "with the classifier (text.prompt_agreement)")
    if concept in STYLES:
        from ..text.captions import attributes

        want = STYLES[concept]
        return torch.tensor([sum(a[k] == v for k, v in want.items()) / len(want) for a in attributes(x.cpu())],
                            device=x.device)
    m = _mask(concept, x.device)
    return ((x[:, 0][:, m].float().clamp(-1, 1) + 1) / 2).mean(1)


def examples(concept: str) -> tuple[torch.Tensor, torch.Tensor]:
    """(images (4, 1, 28, 28), digits (4,)): the concept's example images, from the MNIST test set."""
    from ..datasets import mnist

    _check(concept)
    x, y = mnist.load("test")
    idx = list(SUBJECTS[concept]) if concept in SUBJECTS else [_FIRST[concept][d] for d in EXAMPLES[concept]]
    assert all(int(y[i]) == d for i, d in zip(idx, EXAMPLES[concept]))
    return (x[idx] if concept in STYLES or concept in SUBJECTS else draw(x[idx], concept)), y[idx]
