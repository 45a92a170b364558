"""A word-level tokenizer for the captions' small vocabulary (lesson 10): nothing to download.

    tok = Tokenizer()                       # the vocabulary of ``captions`` (43 words)
    ids = tok.encode(["a thick seven", ""])  # (2, 12) int64: word ids, then <eos>, then <pad>
    tok.decode(ids[0])                      # 'a thick seven'

Real text encoders split into sub-words (CLIP: byte-pair encoding over 49,408 tokens) so that any string has
a spelling; a closed vocabulary is enough here and makes an unknown word an error that says so. The empty
prompt "" is the single token <eos>: the "null" condition of classifier-free guidance.
"""
from __future__ import annotations

from ..models.tokenizer import EOS, PAD, words  # noqa: F401  (re-exported)
from ..models.tokenizer import Tokenizer as _Tokenizer
from .captions import NAMES, SYNONYMS, TEMPLATES


def _caption_vocabulary() -> list[str]:
    found = set(NAMES) | {str(d) for d in range(10)} | {"an"}
    for syn in SYNONYMS.values():
        for s in syn:
            found |= set(words(s))
    for t in TEMPLATES:
        found |= {w for w in words(t) if not w.startswith("{")}
    return sorted(found)


class Tokenizer(_Tokenizer):
    """The tokenizer of the captions' vocabulary unless another is given."""

    def __init__(self, vocabulary: list[str] | None = None, length: int = 12):
        super().__init__(vocabulary if vocabulary is not None else _caption_vocabulary(), length)
