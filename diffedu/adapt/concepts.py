"""The new concepts of lesson 11, made from MNIST so they are reproducible, and how to tell them in a sample.

* **boxed**: the digit inside a one-pixel box drawn on rows/columns 1 and 26 of the 28×28 image;
* **dotted**: a 3×3 dot in the top-right corner (rows 2–4, columns 23–25).

Neither has a word in lesson 10's vocabulary, and neither occurs in MNIST (fewer than 1 % of the ink pixels
of the training digits fall on the box; the corner is as empty), so nothing the text model has learned draws
them. Each concept's examples are four test digits (``EXAMPLES``) with the mark drawn on — the handful of
pictures a user would bring.

The detectors are closed forms, not learned: a concept's **score** is the mean brightness of its mark's pixels,
mapped to [0, 1] (0 black, 1 white); an image "has" the concept when the score exceeds 0.5. On the MNIST test
digits the box scores 0.01 on average and the dot 0.02; on the examples, 1.
"""
from __future__ import annotations

import torch

from .._checks import check_batched

EXAMPLES = {"boxed": (2, 3, 5, 8), "dotted": (0, 4, 6, 9)}   # which digits each concept's examples show
_FIRST = {0: 3, 2: 1, 3: 18, 4: 4, 5: 8, 6: 11, 8: 61, 9: 7}   # their indices: the first of each in MNIST's test set


def _mask(concept: str, device=None) -> torch.Tensor:
    m = torch.zeros(28, 28, dtype=torch.bool, device=device)
    if concept == "boxed":
        m[1, 1:27] = m[26, 1:27] = m[1:27, 1] = m[1:27, 26] = True
    elif concept == "dotted":
        m[2:5, 23:26] = True
    else:
        raise ValueError(f"concept must be 'boxed' or 'dotted', got {concept!r}")
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
    return x.masked_fill(_mask(concept, x.device), -1.0)


def score(x: torch.Tensor, concept: str) -> torch.Tensor:
    """(B,) mean brightness of the mark's pixels in [0, 1]: ≈ 0 without the concept, ≈ 1 with it."""
    check_batched("x", x)
    m = _mask(concept, x.device)
    return ((x[:, 0][:, m].float().clamp(-1, 1) + 1) / 2).mean(1)


def examples(concept: str) -> tuple[torch.Tensor, torch.Tensor]:
    """(images (4, 1, 28, 28), digits (4,)): the concept's example images, from the MNIST test set."""
    from ..datasets import mnist

    _mask(concept)
    x, y = mnist.load("test")
    idx = [_FIRST[d] for d in EXAMPLES[concept]]
    assert all(int(y[i]) == d for i, d in zip(idx, EXAMPLES[concept]))
    return draw(x[idx], concept), y[idx]
