"""A word-level tokenizer over a closed vocabulary: words → ids, ``<eos>`` at the end, ``<pad>`` to a fixed length.

    tok = Tokenizer(caption_vocabulary())   # lesson 10's captions (diffedu.text.caption_tokenizer() makes it)
    ids = tok.encode(["a thick seven", ""])  # (2, 12) int64: word ids, then <eos>, then <pad>
    tok.decode(ids[0])                      # 'a thick seven'

The text networks (``clip``, ``text_unet``) store their vocabulary in their config, so a checkpoint rebuilds its
own tokenizer (``net.tokenizer``). Real text encoders split into sub-words (CLIP: byte-pair encoding over 49,408
tokens) so that any string has a spelling; a closed vocabulary is enough here and makes an unknown word an error
that says so. The empty prompt "" is the single token <eos>: the "null" condition of classifier-free guidance.
"""
from __future__ import annotations

import difflib

import torch

from .._checks import check_int

PAD, EOS = "<pad>", "<eos>"


def words(text: str) -> list[str]:
    """Lower-case words, with the comma as a word of its own."""
    if not isinstance(text, str):
        raise ValueError(f"a prompt must be a string, got {type(text).__name__}")
    return text.lower().replace(",", " , ").split()


def _length(name: str, length) -> int:
    """A prompt length: at least one word and <eos>."""
    return check_int(name, length, low=2)


class Tokenizer:
    def __init__(self, vocabulary: list[str], length: int = 12):
        if isinstance(vocabulary, (str, bytes)) or not isinstance(vocabulary, (list, tuple)):
            raise ValueError(f"vocabulary must be a list of words, got {type(vocabulary).__name__} {vocabulary!r}")
        vocab = list(vocabulary)
        for w in vocab:   # a word is what words() makes of it: lower case, no spaces, commas on their own
            if not isinstance(w, str) or words(w) != [w]:
                raise ValueError(f"vocabulary must hold single lower-case words (as words() splits a prompt), got {w!r}")
        if len(set(vocab)) != len(vocab) or PAD in vocab or EOS in vocab:
            raise ValueError("vocabulary must hold distinct words, without <pad> and <eos>")
        self.itos = [PAD, EOS] + vocab
        self.stoi = {w: i for i, w in enumerate(self.itos)}
        self.length = _length("length", length)

    def __len__(self) -> int:
        return len(self.itos)

    @property
    def pad_id(self) -> int:
        return 0

    def encode(self, texts, length: int | None = None) -> torch.Tensor:
        """Prompts (a string or a list) → (B, length) int64: the words' ids, <eos>, then <pad>."""
        if isinstance(texts, str):
            texts = [texts]
        if not isinstance(texts, (list, tuple)) or not texts or not all(isinstance(t, str) for t in texts):
            raise ValueError(f"texts must be a prompt (a string) or a non-empty list of strings, got "
                             f"{type(texts).__name__} {texts!r}")
        length = self.length if length is None else _length("length", length)
        out = torch.full((len(texts), length), self.pad_id, dtype=torch.long)
        for i, text in enumerate(texts):
            ws = words(text)
            unknown = [w for w in ws if w not in self.stoi]
            if unknown:
                hint = difflib.get_close_matches(unknown[0], self.itos[2:], n=3)
                raise ValueError(f"unknown word {unknown[0]!r} in prompt {text!r}"
                                 + (f" (did you mean {', '.join(map(repr, hint))}?)" if hint else "")
                                 + f"; the vocabulary: {' '.join(self.itos[2:])}")
            if len(ws) + 1 > length:
                raise ValueError(f"prompt {text!r} has {len(ws)} words; at most {length - 1} fit")
            out[i, :len(ws) + 1] = torch.tensor([self.stoi[w] for w in ws] + [self.stoi[EOS]])
        return out

    def decode(self, ids: torch.Tensor) -> str:
        """One row of ids → the prompt (up to <eos>), commas re-attached."""
        if not torch.is_tensor(ids):
            try:
                ids = torch.as_tensor(ids)
            except (TypeError, ValueError, RuntimeError):
                raise ValueError(f"ids must be one row of token ids (a (L,) int tensor), got {ids!r}") from None
        if ids.ndim != 1 or ids.is_floating_point() or ids.is_complex() or ids.dtype == torch.bool:
            raise ValueError(f"ids must be one row of token ids (a (L,) int tensor; decode a batch row by row), got a "
                             f"{ids.dtype} tensor of shape {tuple(ids.shape)}")
        if ids.numel() and (ids.min() < 0 or ids.max() >= len(self)):
            raise ValueError(f"ids must be token ids in [0, {len(self) - 1}] (the vocabulary), got values in "
                             f"[{int(ids.min())}, {int(ids.max())}]")
        ws = []
        for i in ids.tolist():
            if self.itos[i] == EOS:
                break
            if self.itos[i] != PAD:
                ws.append(self.itos[i])
        return " ".join(ws).replace(" ,", ",")
