"""The super-resolution stage of a cascade (Ho et al. 2021, "Cascaded diffusion models for high fidelity image
generation"): a U-Net denoiser of the high-resolution image x_t that also sees

* the low-resolution image, upsampled (bilinear) to x_t's size and concatenated channel-wise with x_t;
* the conditioning-augmentation level s at which that low-resolution image was noised (``diffedu.cascade``),
  through its own sinusoidal embedding, added to the time embedding.

    [x_t (B, 3, H, W) ; z_s (B, 3, H, W)] ─ conv ─ U-Net trunk (emb = time(t) + level(s)) ─ v̂ (B, 3, H, W)
"""
from __future__ import annotations

import torch

from .._checks import check_int
from ._inputs import check_inputs
from .embedding import TimeEmbedding
from .registry import register
from .unet import UNet

LEVEL_SCALE = 1000.0  # s ∈ [0, 1] enters the sinusoidal embedding as 1000 s, like a continuous time


@register
class SuperResUNet(UNet):
    def __init__(self, cond_channels: int = 3, **config):
        cond_channels = check_int("cond_channels", cond_channels, low=1)
        super().__init__(**config)
        c0 = self.inp.out_channels
        self.inp = torch.nn.Conv2d(self.config["in_channels"] + cond_channels, c0, 3, padding=1)
        self.level = TimeEmbedding(self.time.dim)
        self.config["cond_channels"] = cond_channels

    def forward(self, x: torch.Tensor, t: torch.Tensor, y: torch.Tensor | None = None, *,
                low: torch.Tensor | None = None, level: torch.Tensor | None = None) -> torch.Tensor:
        """x: (B, C, H, W) noisy high-resolution image; low: (B, cond_channels, H, W) the (noised) upsampled
        low-resolution image; level: (B,) its augmentation level s in [0, 1]."""
        c, s = self.config["in_channels"], self.config["image_size"]
        check_inputs(self, x, t, (c, s, s), y, self.num_classes)
        if low is None or level is None:
            raise ValueError("SuperResUNet needs low= (the upsampled low-resolution image) and level= (its "
                             "augmentation level): bind them with diffedu.cascade.SuperResolution")
        check_inputs(self, low, t, (self.config["cond_channels"], s, s))
        if not torch.is_tensor(level) or level.shape != (x.shape[0],):
            raise ValueError(f"SuperResUNet: level must have shape ({x.shape[0]},), got "
                             f"{tuple(level.shape) if torch.is_tensor(level) else type(level).__name__}")
        emb = self.embed(t, y) + self.level(level * LEVEL_SCALE)
        return self.trunk(self.inp(torch.cat([x, low.to(x.dtype)], dim=1)), emb)
