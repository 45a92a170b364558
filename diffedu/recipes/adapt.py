"""Recipes for lesson 11: teaching the text model (``mnist-text-unet``) a concept it has no word for, from the four
example images of ``adapt.concepts`` — by textual inversion, DreamBooth (with and without prior preservation)
and LoRA (cross-attention Q, K alone, or Q, K, V, O).

Each run starts from the shipped text model (``DIFFEDU_TEXT_UNET`` points elsewhere, e.g. for a quick test) and
saves only what it trained: the new word's embedding, the adapter, or — DreamBooth — the whole denoiser.

Prompts: textual inversion learns "s*" in "a s* two" (the word starts from "digit"); DreamBooth teaches the rare
identifier "[v]" (a random embedding, kept fixed) in "a [v] two", preserving the prior with the frozen model's
own samples of "the digit {name}"; a LoRA learns the concept under the examples' ordinary prompts
("the digit two"): the adapter itself is the concept and its scale the knob.
"""
from __future__ import annotations

import os

import torch

from .. import adapt, checkpoint
from ..text.captions import NAMES
from ._setup import Setup

_BASE = dict(family="adapt", base="mnist-text-unet", resumable=False, batch=16, seed=0, save_dtype="float16", ema_decay=0.98,
             prediction="v", weighting="min-snr")
_LORA = dict(_BASE, kind="lora", steps=300, lr=3e-3, rank=4)
_DB = dict(_BASE, kind="dreambooth", steps=300, lr=2e-4, prior_images=100, prior_w=3.0, prior_steps=20)
RECIPES = {
    "boxed-textual-inversion": dict(_BASE, kind="textual-inversion", concept="boxed", steps=300, lr=2e-2,
                                    word="s*", init="digit"),
    "boxed-dreambooth": dict(_DB, concept="boxed", lam=1.0),
    "boxed-dreambooth-no-prior": dict(_DB, concept="boxed", lam=0.0),
    "boxed-lora-qk": dict(_LORA, concept="boxed", targets=("q", "k")),
    "boxed-lora-qkvo": dict(_LORA, concept="boxed", targets=("q", "k", "v", "out")),
    "dotted-lora-qkvo": dict(_LORA, concept="dotted", targets=("q", "k", "v", "out")),
}


def base_model(name: str = "mnist-text-unet"):
    """The text model every recipe starts from (``DIFFEDU_TEXT_UNET``: a checkpoint file to use instead)."""
    from ..pretrained import asset_path

    return checkpoint.load(os.environ.get("DIFFEDU_TEXT_UNET") or asset_path(name))


def cross_attention_layers(net, kinds) -> list[str]:
    """Full names of the cross-attention projections of these kinds ("q", "k", "v", "out")."""
    return [n for n, m in net.named_modules() if n.startswith("cross.") and n.rsplit(".", 1)[-1] in kinds
            and isinstance(m, torch.nn.Linear)]


def prompts_for(r: dict, digits) -> list[str]:
    if r["kind"] == "textual-inversion":
        return [f"a {r['word']} {NAMES[int(d)]}" for d in digits]
    if r["kind"] == "dreambooth":
        return [f"a [v] {NAMES[int(d)]}" for d in digits]
    return [f"the digit {NAMES[int(d)]}" for d in digits]


def setup(name: str, r: dict) -> Setup:
    model = base_model(r["base"])
    net, process = model.net, model.process
    x, digits = adapt.examples(r["concept"])
    if r["kind"] == "textual-inversion":
        adapt.add_words(model, [r["word"]], init=r["init"])
        adapt.freeze_all_but_words(model)
    elif r["kind"] == "dreambooth":
        adapt.add_words(model, ["[v]"], trainable=False, seed=r["seed"])
        net.requires_grad_(True)
        net.text.requires_grad_(False)                     # the text encoder stays the CLIP's
    else:
        adapt.add_lora(net, cross_attention_layers(net, r["targets"]), r["rank"], seed=r["seed"])
    tokens = net.tokenizer.encode(prompts_for(r, digits))
    prior = prior_tokens = None
    if r["kind"] == "dreambooth" and r["lam"] > 0:
        names = [f"the digit {NAMES[i % 10]}" for i in range(r["prior_images"])]
        prior = adapt.class_prior(model, names, r["prior_w"], r["prior_steps"], seed=r["seed"] + 1)
        prior_tokens = net.tokenizer.encode(names)
    n = len(x)

    def batches(g):                                        # the examples, repeated; prior images drawn at random
        i = torch.randint(0, n, (r["batch"],), generator=g)
        if prior is None:
            return x[i], tokens[i]
        j = torch.randint(0, len(prior), (r["batch"],), generator=g)
        return x[i], tokens[i], prior[j], prior_tokens[j]

    def loss(m, batch, g):
        kw = dict(prediction=r["prediction"], weighting=r["weighting"], generator=g)
        if len(batch) == 2:
            return adapt.prior_preservation_loss(m, batch[0], batch[1], None, None, process, 0.0, **kw)
        return adapt.prior_preservation_loss(m, *batch, process, r["lam"], **kw)

    def save(path, trained, meta, dtype):
        if r["kind"] == "textual-inversion":
            return adapt.save_words(path, trained, meta)
        if r["kind"] == "lora":
            return adapt.save_lora(path, trained, meta=meta, dtype=dtype)
        adapt.bake_words(trained)
        return checkpoint.save(path, trained, process=process, prediction=model.prediction, meta=meta, dtype=dtype)

    return Setup(net, batches, loss, process, model.prediction, save=save)
