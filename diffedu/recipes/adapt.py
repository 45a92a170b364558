"""Recipes for lesson 11: teaching the text model (``mnist-text-unet``) a concept it has no word for, from the four
example images of ``adapt.concepts`` — by textual inversion, DreamBooth (with and without prior preservation)
and LoRA (cross-attention Q, K alone, or Q, K, V, O); the box (outside the model's range) by each, the backhand
style (inside it) by the two that can only re-route, textual inversion and LoRA on Q, K.

Each run starts from the shipped text model (``DIFFEDU_TEXT_UNET`` points elsewhere, e.g. for a quick test) and
saves only what it trained: the new word's embedding, the adapter, or — DreamBooth — the whole denoiser.

Prompts: textual inversion learns "s*" in "a s* two" (the word starts from "digit"); DreamBooth and the LoRAs
teach a rare identifier ("[v]" for the box, "[w]" for the dot, "[u]" for the backhand: a new token with a
random embedding, kept fixed) in "a [v] two", and preserve the prior with the frozen model's own samples of
ordinary captions (the caption generator's templates, digits and attributes: every kind of prompt the model was
trained on). λ = 0 is the naive fine-tune of the lesson's section 2. LoRA with this objective is how LoRAs for a
subject are usually trained (DreamBooth-LoRA); only A and B train.
"""
from __future__ import annotations

import os

import torch

from .. import adapt, checkpoint
from ..text.captions import NAMES, SYNONYMS, caption
from ._setup import Setup
from .text import SLANTS, STROKES

_BASE = dict(family="adapt", base="mnist-text-unet", resumable=False, batch=16, seed=0, save_dtype="float16", ema_decay=0.98,
             prediction="v", weighting="min-snr")
_PRIOR = dict(word="[v]", word_seed=0, lam=1.0, prior_images=100, prior_w=3.0, prior_steps=20, p_uncond=0.15)
_LORA = dict(_BASE, **_PRIOR, kind="lora", steps=300, lr=1e-3, rank=4)
CONV28 = ("up.6.0.conv1", "up.6.0.conv2", "up.7.0.conv1", "up.7.0.conv2", "out.2")  # the text U-Net's 28×28 convs
_DB = dict(_BASE, **_PRIOR, kind="dreambooth", steps=300, lr=1e-4)
RECIPES = {
    "boxed-textual-inversion": dict(_BASE, kind="textual-inversion", concept="boxed", steps=300, lr=2e-2,
                                    word="s*", init="digit"),
    "boxed-dreambooth": dict(_DB, concept="boxed"),
    "boxed-dreambooth-no-prior": dict(_DB, concept="boxed", lam=0.0),
    # the prior weight's trade-off (measured in benchmarks/README.md, not shipped): less leak, a fainter concept
    "boxed-dreambooth-lam4": dict(_DB, concept="boxed", lam=4.0),
    "boxed-dreambooth-lam10": dict(_DB, concept="boxed", lam=10.0),
    "boxed-lora-qk": dict(_LORA, concept="boxed", targets=("q", "k")),
    "boxed-lora-qkvo": dict(_LORA, concept="boxed", targets=("q", "k", "v", "out")),
    # the lecture's Q, K plus the convolutions of the 28×28 level (the layers that draw strokes), rank 3: ≤ 1 % on disk
    "boxed-lora-qk-conv": dict(_LORA, concept="boxed", rank=3, targets=("q", "k") + CONV28),
    "boxed-lora-qkvo-r3": dict(_LORA, concept="boxed", rank=3, lam=3.0, targets=("q", "k", "v", "out")),  # measured
    "dotted-lora-qkvo": dict(_LORA, concept="dotted", targets=("q", "k", "v", "out"), word="[w]", word_seed=1),
    # a concept inside the model's range (a style two words describe): what only re-routes can learn it
    "backhand-textual-inversion": dict(_BASE, kind="textual-inversion", concept="backhand", steps=300, lr=2e-2,
                                       word="s*", init="digit"),
    # the identifier matters: before training (LoRA at s = 0, 100 prompts) seed 5's random vector draws the
    # backhand in 1 % of samples, seed 2's in 24 %: Q and K can only re-route among what the prompt's words carry
    "backhand-lora-qk": dict(_LORA, concept="backhand", targets=("q", "k"), word="[u]", word_seed=5),
    "backhand-lora-qk-leaning": dict(_LORA, concept="backhand", targets=("q", "k"), word="[u]", word_seed=2),
    # a subject for composition (lesson 11, section 7): four thin upright fours captioned "a s*" alone, so the word
    # must carry the digit itself; composed with the backhand's word: "S_four in the style of S_style"
    "four-textual-inversion": dict(_BASE, kind="textual-inversion", concept="four", steps=300, lr=2e-2, word="s*",
                                   init="digit", template="a {word}"),
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
    """The examples' prompts: "a [v] two" (the recipe's word before the digit's name), or the recipe's
    ``template`` ("a {word}": the word alone, for a subject)."""
    return [r.get("template", "a {word} {name}").format(word=r["word"], name=NAMES[int(d)]) for d in digits]


def prior_prompts(n: int, seed: int) -> list[str]:
    """n prompts for the prior images: every other one DreamBooth's class prompt — the examples' template
    without the identifier, "a two" or with an ordinary word in its place, "a thick two" — the rest ordinary
    captions as the text model was trained on (random digits, attributes, templates)."""
    g = torch.Generator().manual_seed(seed)
    d, st, sl, k = (torch.randint(0, m, (n,), generator=g).tolist() for m in (10, 3, 4, 1 << 20))
    words = [""] + [f"{w} " for group in SYNONYMS.values() for w in group]
    return [f"a {words[e % len(words)]}{NAMES[a]}".replace("a i", "an i").replace("a e", "an e") if i % 2 == 0
            else caption(a, STROKES[b], SLANTS[c], e) for i, (a, b, c, e) in enumerate(zip(d, st, sl, k))]


def setup(name: str, r: dict) -> Setup:
    model = base_model(r["base"])
    net, process = model.net, model.process
    x, digits = adapt.examples(r["concept"])
    if r["kind"] == "textual-inversion":
        adapt.add_words(model, [r["word"]], init=r["init"])
        adapt.freeze_all_but_words(model)
    else:                                                  # the identifier: random, fixed
        adapt.add_words(model, [r["word"]], trainable=False, seed=r["word_seed"])
        if r["kind"] == "dreambooth":
            net.requires_grad_(True)
            net.text.requires_grad_(False)                 # the text encoder stays the CLIP's
        else:
            attention = [t for t in r["targets"] if t in ("q", "k", "v", "out")]
            others = [t for t in r["targets"] if t not in attention]      # whole layer names, e.g. CONV28
            adapt.add_lora(net, cross_attention_layers(net, attention) + others, r["rank"], seed=r["seed"])
    tokens = net.tokenizer.encode(prompts_for(r, digits))
    prior = prior_tokens = None
    if r.get("lam", 0) > 0:
        names = prior_prompts(r["prior_images"], r["seed"] + 1)
        prior = adapt.class_prior(model, names, r["prior_w"], r["prior_steps"], r["seed"] + 1)
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
        xb, yb, xp, yp = batch
        # the empty prompt too (as the text model was trained): classifier-free guidance extrapolates from the
        # unconditional output, and a fine-tune that never sees the empty prompt lets it drift
        drop = (torch.rand(yp.shape[0], generator=g) < r["p_uncond"]).to(yp.device)
        yp = torch.where(drop[:, None], m.empty_prompt(yp.shape[0], yp.device), yp)
        return adapt.prior_preservation_loss(m, xb, yb, xp, yp, process, r["lam"], **kw)

    def save(path, trained, meta, dtype):
        if r["kind"] == "textual-inversion":
            return adapt.save_words(path, trained, meta)
        if r["kind"] == "lora":
            return adapt.save_lora(path, trained, meta=meta, dtype=dtype)
        adapt.bake_words(trained)
        return checkpoint.save(path, trained, process=process, prediction=model.prediction, meta=meta, dtype=dtype)

    return Setup(net, batches, loss, process, model.prediction, save=save)
