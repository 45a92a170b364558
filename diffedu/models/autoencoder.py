"""The autoencoder of latent diffusion (Rombach et al. 2022, "High-resolution image synthesis with latent
diffusion models"), small enough for a CPU: a convolutional encoder E that maps an image x (B, 3, H, W) to
the mean and log-variance of a diagonal Gaussian q(z|x) over latents z (B, c, H/f, W/f), and a decoder D back.

    x ─ conv ─ [Res] ─ down ─ [Res] ─ down ─ [Res, Res] ─ conv → (μ, log σ²)     (f = 2^(levels−1))
    z ─ conv ─ [Res, Res] ─ up ─ [Res] ─ up ─ [Res] ─ conv → x̂

Shapes for CIFAR-10 with the defaults (f = 4, c = 4): (B, 3, 32, 32) → 32 ch @32 → 64 ch @16 → 64 ch @8 →
(B, 4, 8, 8): 256 numbers for 3,072 pixels. The loss and the KL regulariser live in ``diffedu.latent``.
"""
from __future__ import annotations

import torch
from torch import nn

from .._checks import check_int
from .registry import register


class Res(nn.Module):
    """GroupNorm → SiLU → conv, twice, plus the input: the U-Net's block without a time embedding."""

    def __init__(self, cin: int, cout: int, groups: int = 8):
        super().__init__()
        self.body = nn.Sequential(nn.GroupNorm(groups, cin), nn.SiLU(), nn.Conv2d(cin, cout, 3, padding=1),
                                  nn.GroupNorm(groups, cout), nn.SiLU(), nn.Conv2d(cout, cout, 3, padding=1))
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x):
        return self.skip(x) + self.body(x)


@register
class Autoencoder(nn.Module):
    def __init__(self, image_size: int = 32, in_channels: int = 3, latent_channels: int = 4,
                 base_channels: int = 32, channel_mults: tuple = (1, 2, 2)):
        super().__init__()
        for name, v in (("image_size", image_size), ("in_channels", in_channels),
                        ("latent_channels", latent_channels), ("base_channels", base_channels)):
            check_int(name, v, low=1)
        channel_mults = tuple(channel_mults)
        if not channel_mults:
            raise ValueError("channel_mults must hold at least one level")
        f = 2 ** (len(channel_mults) - 1)
        if image_size % f:
            raise ValueError(f"image_size {image_size} must be divisible by the downsampling factor {f}")
        self.config = dict(image_size=image_size, in_channels=in_channels, latent_channels=latent_channels,
                           base_channels=base_channels, channel_mults=channel_mults)
        self.factor = f
        ch = [base_channels * m for m in channel_mults]
        enc: list[nn.Module] = [nn.Conv2d(in_channels, ch[0], 3, padding=1)]
        c = ch[0]
        for i, cout in enumerate(ch):
            enc.append(Res(c, cout))
            c = cout
            if i < len(ch) - 1:
                enc.append(nn.Conv2d(c, c, 3, stride=2, padding=1))                 # downsample ×2
        enc += [Res(c, c), nn.GroupNorm(8, c), nn.SiLU(), nn.Conv2d(c, 2 * latent_channels, 3, padding=1)]
        self.encoder = nn.Sequential(*enc)
        dec: list[nn.Module] = [nn.Conv2d(latent_channels, c, 3, padding=1), Res(c, c)]
        for i, cout in reversed(list(enumerate(ch))):
            dec.append(Res(c, cout))
            c = cout
            if i > 0:
                dec += [nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(c, c, 3, padding=1)]  # up ×2
        dec += [nn.GroupNorm(8, c), nn.SiLU(), nn.Conv2d(c, in_channels, 3, padding=1)]
        self.decoder = nn.Sequential(*dec)

    @property
    def latent_shape(self) -> tuple:
        s = self.config["image_size"] // self.factor
        return (self.config["latent_channels"], s, s)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(μ, log σ²) of q(z|x), each (B, c, H/f, W/f); log σ² clamped to [−30, 20] as in latent diffusion."""
        c, s = self.config["in_channels"], self.config["image_size"]
        if not torch.is_tensor(x) or x.ndim != 4 or tuple(x.shape[1:]) != (c, s, s):
            got = tuple(x.shape) if torch.is_tensor(x) else type(x).__name__
            raise ValueError(f"Autoencoder: x must have shape (batch, {c}, {s}, {s}), got {got}")
        mean, logvar = self.encoder(x).chunk(2, dim=1)
        return mean, logvar.clamp(-30.0, 20.0)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """x̂ = D(z): (B, c, H/f, W/f) → (B, 3, H, W)."""
        if not torch.is_tensor(z) or z.ndim != 4 or tuple(z.shape[1:]) != self.latent_shape:
            got = tuple(z.shape) if torch.is_tensor(z) else type(z).__name__
            raise ValueError(f"Autoencoder: z must have shape (batch, {', '.join(map(str, self.latent_shape))}), "
                             f"got {got}")
        return self.decoder(z)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The reconstruction through the posterior mean: D(μ(x))."""
        return self.decode(self.encode(x)[0])

