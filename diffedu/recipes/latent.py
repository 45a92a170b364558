"""Recipes for lesson 09 (scaling up resolution): the CIFAR-10 autoencoder and the DiT trained in its latent
space (latent diffusion), and the two stages of a cascade — a class-conditional base model at 16×16 and a
16 → 32 super-resolution model with conditioning augmentation. The diffusion models use lesson 08's choices
(cosine schedule, v-prediction, min-SNR weighting, EMA, labels dropped 10 % of the time for CFG).

The latent DiT needs the autoencoder first: ``cifar-autoencoder`` is read from the shipped assets, or from
``$DIFFEDU_AUTOENCODER`` (a checkpoint path) while it is being retrained.
"""
from __future__ import annotations

import os
from functools import lru_cache

import torch

from .. import cascade
from ..latent import autoencoder_loss, encode_means, scale_factor
from ..losses import diffusion_loss
from ..processes import DiscreteVP
from ..train import tensor_batches
from ._setup import Setup
from .cifar import train_data

_DIFF = dict(family="latent", data="cifar10", schedule="cosine", T=1000, prediction="v", weighting="min-snr",
             batch=64, lr=5e-4, ema_decay=0.999, p_uncond=0.1, seed=0, save_dtype="float16")
RECIPES = {
    # E, D with f = 4, c = 4 (3,072 pixels → 256 latent numbers); KL weight as latent diffusion's KL-f4
    "cifar-autoencoder": dict(family="latent", kind="autoencoder", data="cifar10", network="Autoencoder",
                              steps=2000, batch=64, lr=1e-3, ema_decay=0.999, kl_weight=1e-6, seed=0,
                              model=dict(image_size=32, in_channels=3, latent_channels=4, base_channels=32,
                                         channel_mults=(1, 2, 2)), save_dtype="float16"),
    # lesson 08's DiT (hidden 128, depth 4), one token per latent position: 64 tokens instead of 256
    "cifar-latent-dit": dict(_DIFF, kind="latent", network="DiT", autoencoder="cifar-autoencoder", steps=8000,
                             model=dict(image_size=8, in_channels=4, patch_size=1, hidden_size=128, depth=4, heads=4,
                                        num_classes=10)),
    # the cascade: base at 16×16 (average-pooled CIFAR) + SR 16 → 32; together about lesson 08's U-Net's size.
    # The SR model has no attention at all (local detail only): fully convolutional
    "cifar-base16": dict(_DIFF, kind="base", network="UNet", steps=2500,
                         model=dict(image_size=16, in_channels=3, base_channels=32, channel_mults=(1, 2),
                                    num_res_blocks=1, attn_resolutions=(8,), num_classes=10, dropout=0.1)),
    "cifar-sr16to32": dict(_DIFF, kind="sr", network="SuperResUNet", steps=1500, max_level=0.5, p_uncond=0.0,
                           model=dict(image_size=32, in_channels=3, base_channels=32, channel_mults=(1, 2),
                                      num_res_blocks=1, attn_resolutions=(), mid_attention=False, num_classes=0,
                                      dropout=0.0, cond_channels=3)),
}
# Ho et al.'s ablation (lesson 09, section 2.3): the same SR model trained WITHOUT conditioning augmentation
# (level always 0), at the same budget. Not shipped; benchmarks/cifar.py --part sr-ablation compares the two.
RECIPES["cifar-sr16to32-noaug"] = dict(RECIPES["cifar-sr16to32"], max_level=0.0)


def autoencoder(name: str = "cifar-autoencoder"):
    """The autoencoder the latent recipes build on (``$DIFFEDU_AUTOENCODER`` overrides the shipped one)."""
    from .. import checkpoint
    from ..pretrained import asset_path

    return checkpoint.load(os.environ.get("DIFFEDU_AUTOENCODER") or asset_path(name)).requires_grad_(False)


@lru_cache(maxsize=2)
def latent_data(name: str, path_hint: str | None) -> tuple[torch.Tensor, torch.Tensor, float]:
    """κ·μ(x) for every training image and its mirror image (flips are augmentation that cannot be done on
    latents), their labels, and κ. Computed once per process (about a minute on one CPU thread)."""
    ae = autoencoder(name)
    x, y = train_data()
    mu = encode_means(ae, x)
    kappa = float(ae.meta.get("scale_factor") or scale_factor(mu))
    return torch.cat([mu, encode_means(ae, x.flip(-1))]) * kappa, torch.cat([y, y]), kappa


def setup(name: str, r: dict) -> Setup:
    from .. import models

    net = getattr(models, r["network"])(**r["model"])
    if r["kind"] == "autoencoder":
        x, _ = train_data()
        batches = tensor_batches(x, r["batch"])

        def ae_loss(m, xb, g):
            return autoencoder_loss(m, xb.flip(-1) if bool(torch.rand((), generator=g) < 0.5) else xb,
                                    r["kl_weight"], generator=g)
        return Setup(net, batches, ae_loss)
    process, n_cls = DiscreteVP(r["schedule"], r["T"]), r["model"]["num_classes"]
    ae = scale = None
    if r["kind"] == "latent":
        data, labels, scale = latent_data(r["autoencoder"], os.environ.get("DIFFEDU_AUTOENCODER"))
        ae = autoencoder(r["autoencoder"])
    else:
        data, labels = train_data()
        if r["kind"] == "base":
            data = cascade.downsample(data)
    batches = tensor_batches(data, r["batch"], labels)

    def loss(m, batch, g):
        xb, yb = batch
        if r["kind"] != "latent" and bool(torch.rand((), generator=g) < 0.5):
            xb = xb.flip(-1)
        kw = dict(prediction=r["prediction"], weighting=r["weighting"], generator=g)
        if r["kind"] == "sr":
            return cascade.sr_loss(m, xb, process, max_level=r["max_level"], **kw)
        drop = (torch.rand(yb.shape[0], generator=g) < r["p_uncond"]).to(yb.device)
        return diffusion_loss(m, xb, process, y=torch.where(drop, n_cls, yb), **kw)

    return Setup(net, batches, loss, process, r["prediction"], n_cls or None, autoencoder=ae, scale=scale)


def describe(name: str, r: dict, net) -> dict:
    """What the command line adds to an autoencoder's metadata: κ on the training set and the test PSNR, both
    measured through the weights as shipped (rounded to ``save_dtype``)."""
    if r["kind"] != "autoencoder":
        return {}
    from ..datasets import cifar10
    from ..latent import psnr

    shipped = type(net)(**net.config)
    shipped.load_state_dict({k: v.to(getattr(torch, r["save_dtype"])).float() for k, v in net.state_dict().items()})
    shipped.eval()
    x, _ = train_data()
    kappa = scale_factor(encode_means(shipped, x))
    xt, _ = cifar10.test_data()
    with torch.no_grad():
        rec = torch.cat([shipped(xt[i:i + 500]) for i in range(0, len(xt), 500)])
    return {"scale_factor": kappa, "test_psnr_db": float(psnr(xt, rec.clamp(-1, 1)).mean())}
