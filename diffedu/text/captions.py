"""Captions for MNIST digits, computed from their pixels (lesson 10): "a thick slanted seven", "7, thin and
upright", "the digit four".

Each caption names the digit (as a word or a numeral) and, where the measurement is clear, its stroke and slant
(``attributes``); an image in the ambiguous middle of a scale gets no word for it, so every attribute word a
caption contains is one a measurement can check. The bins (on the training set: about a quarter of the
digits each are thin, thick, leaning left, and a third slanted right):

    thin       thickness ≤ 1.65 px        thick      thickness ≥ 2.33 px
    left       slant ≤ −0.12              upright    −0.05 ≤ slant ≤ 0.10      right   slant ≥ 0.25

Wording varies by template and synonym, chosen deterministically from the image's index, so a data set's
captions are reproducible. Some (digit, attribute) pairs are **held out** (``HELD_OUT``): captions never put
that attribute word on that digit (the image keeps a caption without it), so a model trained on them has
never read "a thick one" — the lesson asks whether it composes the two anyway.
"""
from __future__ import annotations

import torch

from .._checks import check_int, check_labels
from ..models.tokenizer import Tokenizer, words
from .attributes import slant, thickness

NAMES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
STROKE_BINS = {"thin": (None, 1.65), "thick": (2.33, None)}
SLANT_BINS = {"left": (None, -0.12), "upright": (-0.05, 0.10), "right": (0.25, None)}
SYNONYMS = {"thin": ("thin", "light", "fine"), "thick": ("thick", "bold", "heavy"),
            "left": ("leaning left", "backslanted"), "upright": ("upright", "straight"),
            "right": ("slanted", "italic", "leaning right")}
HELD_OUT = {(1, "thick"), (7, "left"), (0, "thin")}  # never captioned together in training
TEMPLATES = ("a {stroke} {slant} {name}", "{digit}, {stroke} and {slant}", "the digit {name}, {stroke}",
             "a {slant} {digit}", "{name}", "a {name} written {stroke}", "the number {digit}, {slant}")


def _bin(v: float, bins: dict) -> str | None:
    for name, (lo, hi) in bins.items():
        if (lo is None or v >= lo) and (hi is None or v <= hi):
            return name
    return None


def attributes(x: torch.Tensor) -> list[dict]:
    """Per image: {"stroke": "thin" | "thick" | None, "slant": "left" | "upright" | "right" | None}."""
    th, sl = thickness(x), slant(x)
    return [{"stroke": _bin(float(a), STROKE_BINS), "slant": _bin(float(b), SLANT_BINS)} for a, b in zip(th, sl)]


def caption(digit: int, stroke: str | None, slant_: str | None, k: int, held_out=HELD_OUT) -> str:
    """The caption of variant k for a digit with these attributes (None: not mentioned). Attributes in
    ``held_out`` with this digit are dropped; templates whose slots cannot be filled are skipped."""
    digit = check_int("digit", digit, low=0, high=9)
    k = check_int("k", k)
    for name, value, bins in (("stroke", stroke, STROKE_BINS), ("slant_", slant_, SLANT_BINS)):
        if value is not None and value not in bins:
            raise ValueError(f"{name} must be one of {sorted(bins)} or None (not mentioned), got {value!r}")
    if isinstance(held_out, (str, bytes)) or not hasattr(held_out, "__contains__"):
        raise ValueError(f"held_out must be a set of (digit, attribute) pairs, got {held_out!r}")
    stroke = None if (digit, stroke) in held_out else stroke
    slant_ = None if (digit, slant_) in held_out else slant_
    usable = [t for t in TEMPLATES if ("{stroke}" not in t or stroke) and ("{slant}" not in t or slant_)]
    t = usable[k % len(usable)]
    pick = lambda key: SYNONYMS[key][(k // len(usable)) % len(SYNONYMS[key])] if key else ""  # noqa: E731
    text = t.format(stroke=pick(stroke), slant=pick(slant_), name=NAMES[digit], digit=str(digit))
    return text.replace("a i", "an i").replace("a e", "an e")  # an italic, an eight


def captions(x: torch.Tensor, y: torch.Tensor, start: int = 0, held_out=HELD_OUT) -> list[str]:
    """One caption per image; image i (counted from ``start``) uses variant 7919 i + 3 (templates and synonyms
    in turn). Training draws a fresh variant each time an image is seen (``caption`` with a random k)."""
    y = check_labels("y", y, 10, null=False)                                # the digits 0–9
    start = check_int("start", start, low=0)
    attrs = attributes(x)
    if y.ndim != 1 or len(attrs) != len(y):
        raise ValueError(f"y must hold one label per image: {y.numel() if y.ndim else 'an int'} for "
                         f"{len(attrs)} images")
    return [caption(int(d), a["stroke"], a["slant"], 7919 * (start + i) + 3, held_out)
            for i, (d, a) in enumerate(zip(y.tolist(), attrs))]


def mentioned(text: str) -> dict:
    """The digit and attributes a caption (or any prompt in this vocabulary) asks for: the inverse of
    ``caption``, used to score samples against their prompts. {"digit": int | None, "stroke": …, "slant": …}."""
    if not isinstance(text, str):
        raise ValueError(f"text must be a caption or prompt (a string), got {type(text).__name__} {text!r}")
    words = text.lower().replace(",", " ").split()
    joined = " ".join(words)
    digit = next((i for i, n in enumerate(NAMES) if n in words or str(i) in words), None)
    found = {}
    for key, group in (("stroke", ("thin", "thick")), ("slant", ("left", "upright", "right"))):
        found[key] = next((a for a in group for s in SYNONYMS[a] if f" {s} " in f" {joined} "), None)
    return {"digit": digit, **found}


def caption_vocabulary() -> list[str]:
    """Every word a caption or ``mentioned`` can use, sorted: the names, the numerals, the synonyms' and the
    templates' words, and "an"."""
    found = set(NAMES) | {str(d) for d in range(10)} | {"an"}
    for syn in SYNONYMS.values():
        for s in syn:
            found |= set(words(s))
    for t in TEMPLATES:
        found |= {w for w in words(t) if not w.startswith("{")}
    return sorted(found)


def caption_tokenizer(length: int = 12) -> Tokenizer:
    """The tokenizer of the captions' vocabulary, prompts of at most ``length`` − 1 words (the text models' own
    is ``net.tokenizer``, rebuilt from their checkpoint)."""
    return Tokenizer(caption_vocabulary(), length)
