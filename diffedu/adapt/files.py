"""Adapters on disk: a LoRA or a set of new words is saved alone (safetensors, the checkpoint's header, sha256,
atomic write) and attached to a base model built like the one it was trained on.

    save_lora(path, net, name)   →  "<layer>.A", "<layer>.B" (+ the words it was trained with, if any)
    save_words(path, net)        →  "embedding" (k, D) and the words' spellings
"""
from __future__ import annotations

from pathlib import Path

import torch

from .. import checkpoint
from ..pretrained import ASSETS
from .lora import load_lora_state, lora_state
from .words import WordEmbedding, add_words, bake_words, new_words, text_net

LORA, WORDS = "LoRA", "Words"
ADAPTERS = ASSETS / "adapters"   # shipped adapters: not models of their own, so not in ``pretrained``'s list


def shipped_adapters() -> list[str]:
    return sorted(p.name[: -len(".safetensors")] for p in ADAPTERS.glob("*.safetensors"))


def adapter_path(adapter) -> Path:
    """The file of a shipped adapter (by name, e.g. "boxed-lora-qk"), or ``adapter`` itself if it is a file."""
    if isinstance(adapter, str) and adapter in shipped_adapters():
        return ADAPTERS / f"{adapter}.safetensors"
    if isinstance(adapter, (str, Path)) and Path(adapter).suffix == ".safetensors":
        return Path(adapter)
    raise ValueError(f"adapter must be a shipped adapter ({', '.join(shipped_adapters()) or 'none'}) or a "
                     f".safetensors file, got {adapter!r}")


def attach(adapter, model, name: str = "default", words=None):
    """Attach a shipped adapter (by name, e.g. "boxed-lora-qk") or an adapter file to ``model`` — a LoRA as
    ``name``, or new words; ``words`` spells the file's words differently (two files that both learned "s*"
    then sit in one prompt: ``words=["s_style"]``); returns the model."""
    path = adapter_path(adapter)
    kind = checkpoint.read(path)[0]["model"]
    return load_lora(path, model, name, words) if kind == LORA else load_words(path, model, words)


def _words_part(model) -> tuple[dict, dict]:
    net = text_net(model)
    if not isinstance(net.text.embed, WordEmbedding):
        return {}, {}
    words = new_words(model)
    return ({"words.embedding": net.text.embed.new.detach().float()},
            {"words": words, "base_vocab": net.config["vocab"][:len(net.config["vocab"]) - len(words)]})


def save_words(path, model, meta: dict | None = None):
    """The new words' embeddings alone (textual inversion's whole result: k × D numbers)."""
    tensors, config = _words_part(model)
    if not tensors:
        raise ValueError("the model has no new words to save (add_words first)")
    return checkpoint.save_tensors(path, WORDS, config, tensors, meta)


def save_lora(path, model, name: str = "default", meta: dict | None = None, dtype=torch.float16):
    """Adapter ``name`` alone (cast to ``dtype``), with the new words the model had when it was trained."""
    tensors, config = lora_state(getattr(model, "net", model), name)
    tensors = {k: v.to(dtype) for k, v in tensors.items()}
    words, wconfig = _words_part(model) if hasattr(getattr(model, "net", model), "text") else ({}, {})
    return checkpoint.save_tensors(path, LORA, {**config, **wconfig}, {**tensors, **words}, meta)


def _read(path, kind: str) -> tuple[dict, dict, dict]:
    header, tensors = checkpoint.read(path)
    if header["model"] != kind:
        raise ValueError(f"{path} holds a {header['model']!r}, not a {kind!r} file")
    return header["config"], tensors, header["meta"]


def _spelling(config: dict, words) -> list:
    """The file's words, or their new spellings ``words`` (one per word, in the file's order)."""
    saved = list(config.get("words", []))
    if words is None:
        return saved
    words = [words] if isinstance(words, str) else list(words)
    if len(words) != len(saved):
        raise ValueError(f"words must give one spelling for each of the file's {len(saved)} words {saved}, got "
                         f"{words}")
    return words


def _attach_words(model, config: dict, tensors: dict, path, words=None) -> None:
    words = _spelling(config, words)
    if not words:
        return
    net = text_net(model)
    base_vocab = config["base_vocab"]                 # the words of the model it was trained on
    if net.config["vocab"][:len(base_vocab)] != base_vocab:
        raise ValueError(f"{path}: its words were trained on a model with another vocabulary "
                         f"({len(base_vocab)} words: {' '.join(base_vocab[:6])} …)")
    clash = [w for w in words if w in net.config["vocab"]]
    if clash:
        raise ValueError(f"{path}: the model already has the words {clash} (from another adapter? attach it with "
                         f"words=[...] to spell them differently)")
    if isinstance(net.text.embed, WordEmbedding):   # words from another adapter: fold them into the table first
        bake_words(model)
    add_words(model, words, init=tensors["words.embedding"], trainable=False)


def load_words(path, model, words=None):
    """Give ``model`` the words saved by ``save_words`` (spelled ``words`` if given: the embedding is what was
    learned, the spelling only its key); returns the model."""
    config, tensors, meta = _read(path, WORDS)
    _attach_words(model, config, tensors, path, words)
    return model


def load_lora(path, model, name: str = "default", words=None):
    """Attach the adapter saved by ``save_lora`` as ``name`` (and its words, spelled ``words`` if given);
    returns the model."""
    config, tensors, meta = _read(path, LORA)
    _attach_words(model, config, tensors, path, words)
    net = getattr(model, "net", model)
    dtype = next(net.parameters()).dtype
    load_lora_state(net, {k: v.to(dtype) for k, v in tensors.items() if not k.startswith("words.")}, config, name)
    return model
