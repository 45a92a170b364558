"""Cascaded diffusion (Ho et al. 2021, "Cascaded diffusion models for high fidelity image generation").

A base model samples a small image; a super-resolution (SR) diffusion model samples the large image
*conditioned on* the small one, upsampled and concatenated with x_t as extra input channels.

Conditioning augmentation: during training the SR model never sees the true low-resolution image itself but

    z_s = α_s · up(x_low) + σ_s · ε,   s ~ U[0, s_max],   (α_s, σ_s) = (cos πs/2, sin πs/2)

and s is one of its inputs. At sampling time the base model's output is *not* a true downsampled image
(it has its own artefacts): a model trained only at s = 0 trusts those artefacts and copies them; a little
augmentation at sampling (s > 0) tells it to treat the input as approximate. s = 0 is the identity: z_0 = up(x_low).
"""
from __future__ import annotations

import torch
from torch.nn import functional as F

from ._checks import check_labels, check_real
from ._random import randn, uniform
from .model import DiffusionModel, Model
from .processes import CosineVP, column
from .losses import diffusion_loss
from .samplers import ddim_sample

AUGMENTATION = CosineVP()  # the noise of conditioning augmentation at level s ∈ [0, 1]


def downsample(x: torch.Tensor, factor: int = 2) -> torch.Tensor:
    """Average-pool by ``factor``: the low-resolution training images of the base model."""
    return F.avg_pool2d(x, factor)


def upsample(x: torch.Tensor, size: int) -> torch.Tensor:
    """Bilinear upsampling to size × size (what the SR model sees beside x_t)."""
    return F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)


def augment(low_up: torch.Tensor, level, noise: torch.Tensor | None = None, generator=None) -> torch.Tensor:
    """z_s = α_s low_up + σ_s ε at level s (a number or (B,) in [0, 1]); s = 0 returns low_up exactly."""
    s = torch.as_tensor(level, dtype=torch.float64)
    if not torch.isfinite(s).all() or (s < 0).any() or (s > 1).any():
        raise ValueError(f"level must lie in [0, 1], got {level!r}")
    noise = randn(low_up.shape, low_up, generator) if noise is None else noise
    a, sig = (column(v, low_up) for v in AUGMENTATION.alpha_sigma(s.to(low_up.device)))
    return a * low_up + sig * noise


class SuperResolution(Model):
    """The SR model bound to its conditioning: ``low`` (B, C, h, w) low-resolution images and the augmentation
    level s used at sampling. The augmented input z_s is drawn once here and is the same at every sampler step."""

    def __init__(self, model: DiffusionModel, low: torch.Tensor, level: float = 0.0, generator=None):
        self.model, self.process, self.prediction = model, model.process, model.prediction
        self.level = check_real("level", level, low=0, high=1)
        size = model.sample_shape[-1]
        self.low = augment(upsample(low.to(model.device, torch.float32), size), self.level, generator=generator)

    def output(self, x, t):
        if x.shape[0] != self.low.shape[0]:
            raise ValueError(f"x has {x.shape[0]} samples but {self.low.shape[0]} low-resolution images were bound")
        level = torch.full((x.shape[0],), self.level, device=x.device, dtype=x.dtype)
        return self.model.output(x, t, low=self.low.to(x.dtype), level=level)


def sr_loss(net, x: torch.Tensor, process, *, factor: int = 2, max_level: float = 0.5, generator=None, **kw):
    """The SR model's training loss: the diffusion loss on the high-resolution x, conditioned on its own
    downsampled-then-upsampled copy augmented at s ~ U[0, max_level]."""
    B, size = x.shape[0], x.shape[-1]
    level = max_level * uniform((B,), x, generator)
    low = augment(upsample(downsample(x, factor), size), level, generator=generator)
    return diffusion_loss(net, x, process, generator=generator, low=low, level=level.to(x.dtype), **kw)


@torch.no_grad()
def cascade_sample(base: DiffusionModel, sr: DiffusionModel, labels, w: float = 3.0, steps: int = 25,
                   sr_steps: int = 25, level: float = 0.1, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """(low, high): the base model's class-conditional images (CFG scale w, DDIM-``steps``) and the SR model's
    images conditioned on them at augmentation level s = ``level`` (DDIM-``sr_steps``); both on the CPU."""
    g = torch.Generator().manual_seed(seed)
    y = check_labels("y", labels, base.num_classes, torch.as_tensor(labels).numel(), "cpu")
    x_low = torch.randn(len(y), *base.sample_shape, generator=g)
    x_high = torch.randn(len(y), *sr.sample_shape, generator=g)
    low = ddim_sample(base.given(y.to(base.device), w), x_low.to(base.device), steps, clip_x0=1.0)
    high = ddim_sample(SuperResolution(sr, low, level, generator=g), x_high.to(sr.device), sr_steps, clip_x0=1.0)
    return low.cpu(), high.cpu()
