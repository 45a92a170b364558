"""Recipes for lesson 10 (text conditioning on MNIST): the small CLIP, trained contrastively on noised digits
and their captions (one model for zero-shot classification at t = 0 and for CLIP guidance at any t), and the
text-conditioned U-Net, whose text encoder is the CLIP's, frozen.

Why frozen: the CLIP's text tower has already learned from every caption which words go with which pixels
(contrastive pre-training), so the denoiser's cross-attention starts from features that mean something;
Stable Diffusion (frozen CLIP) and Imagen (frozen T5) do the same, and a frozen tower cannot drift towards
whatever makes denoising easiest on the seen (digit, attribute) pairs. The cost: it can only express what
the CLIP learned.

Every step draws a fresh caption variant for each image (``captions.caption`` with a random k), so the models
see many phrasings of each digit; held-out (digit, attribute) pairs never appear.
"""
from __future__ import annotations

import torch

from .._random import randint, randn
from ..losses import diffusion_loss
from ..processes import DiscreteVP
from ..models.tokenizer import Tokenizer
from ..text.captions import NAMES, SLANT_BINS, STROKE_BINS, attributes, caption, caption_tokenizer
from ..text.clip import info_nce
from ..train import tensor_batches
from ._setup import Setup

_TEXT = dict(length=12)
RECIPES = {
    "mnist-clip": dict(family="text", kind="clip", data="mnist", schedule="cosine", T=1000, steps=3000, batch=128,
                       lr=1e-3, ema_decay=0.999, p_clean=0.5, seed=0, save_dtype="float16",
                       model=dict(_TEXT, dim=64, layers=2, heads=4, width=32)),
    "mnist-text-unet": dict(family="text", kind="text-diffusion", data="mnist", schedule="cosine", T=1000,
                            prediction="v", weighting="min-snr", steps=4000, batch=64, lr=1e-3, ema_decay=0.999,
                            p_uncond=0.15, text_encoder="mnist-clip", seed=0, save_dtype="float16",
                            model=dict(_TEXT, text_dim=64, text_layers=2, text_heads=4, base_channels=32,
                                       channel_mults=(1, 2, 2), num_res_blocks=1, attn_resolutions=(7,),
                                       cross_attn_resolutions=(14, 7), dropout=0.1)),
}
STROKES, SLANTS = (None, *STROKE_BINS), (None, *SLANT_BINS)


def attribute_codes(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Each image's stroke and slant as indices into STROKES and SLANTS (0: not stated)."""
    a = attributes(x)
    return (torch.tensor([STROKES.index(v["stroke"]) for v in a]), torch.tensor([SLANTS.index(v["slant"]) for v in a]))


def caption_tokens(tok: Tokenizer, y, stroke, slant_, g: torch.Generator) -> torch.Tensor:
    """A random caption variant for every image of a batch, as tokens."""
    ks = torch.randint(0, 1 << 30, (len(y),), generator=g).tolist()
    return tok.encode([caption(int(d), STROKES[int(s)], SLANTS[int(a)], k)
                       for d, s, a, k in zip(y.tolist(), stroke.tolist(), slant_.tolist(), ks)])


def setup(name: str, r: dict) -> Setup:
    from .. import models
    from ..datasets import mnist

    x, y = mnist.load("train")
    stroke, slant_ = attribute_codes(x)
    batches = tensor_batches(x, r["batch"], y, stroke, slant_)
    tok = caption_tokenizer(r["model"]["length"])
    process = DiscreteVP(r["schedule"], r["T"])
    if r["kind"] == "clip":
        net = models.CLIP(vocab=tok.itos[2:], **r["model"])

        def clip_loss(m, batch, g):
            xb, yb, sb, ab = batch
            tokens = caption_tokens(tok, yb, sb, ab, g).to(xb.device)
            t = randint(1, process.T + 1, (xb.shape[0],), xb, g)
            t = torch.where(torch.rand(xb.shape[0], generator=g).to(xb.device) < r["p_clean"], 0, t)
            xt = process.q_sample(xb, t, randn(xb.shape, xb, g))   # t = 0: α = 1, σ = 0, the clean image
            return info_nce(m(xt, tokens, t))
        return Setup(net, batches, clip_loss, process)
    net = models.TextUNet(vocab=tok.itos[2:], **r["model"])
    clip = _clip(r["text_encoder"])
    net.text.load_state_dict(clip.text.state_dict())  # frozen by the config (freeze_text), also when resumed

    def loss(m, batch, g):
        xb, yb, sb, ab = batch
        tokens = caption_tokens(tok, yb, sb, ab, g).to(xb.device)
        drop = (torch.rand(xb.shape[0], generator=g) < r["p_uncond"]).to(xb.device)
        tokens = torch.where(drop[:, None], m.empty_prompt(xb.shape[0], xb.device), tokens)
        return diffusion_loss(m, xb, process, prediction=r["prediction"], weighting=r["weighting"], generator=g,
                              y=tokens)
    return Setup(net, batches, loss, process, r["prediction"])


def _clip(name: str):
    import os

    from .. import checkpoint
    from ..pretrained import asset_path

    return checkpoint.load(os.environ.get("DIFFEDU_CLIP") or asset_path(name))


def describe(name: str, r: dict, net) -> dict:
    """The CLIP's zero-shot accuracy on the 10,000 MNIST test digits (prompts "the digit {name}", a template
    of the captions), at float16 weights."""
    if r["kind"] != "clip":
        return {}
    from ..datasets import mnist
    from ..text.clip import zero_shot

    shipped = type(net)(**net.config)
    shipped.load_state_dict({k: v.half().float() for k, v in net.state_dict().items()})
    x, y = mnist.load("test")
    return {"zero_shot_accuracy": float((zero_shot(shipped.eval(), x) == y).double().mean()),
            "prompt_template": "the digit {name}", "names": list(NAMES)}
