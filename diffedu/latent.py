"""Latent diffusion (Rombach et al. 2022): diffusion in the latent space of an autoencoder, not in pixels.

Train once an autoencoder E, D with a small KL pull of q(z|x) = N(μ(x), diag σ²(x)) towards N(0, I):

    L_AE = ‖x − D(z)‖² + β · KL(q(z|x) ‖ N(0, I)),   z = μ + σ ε,
    KL   = ½ Σ_j (μ_j² + σ_j² − 1 − log σ_j²)        (``forward.kl_standard_normal``, over the latent's entries)

then train the diffusion model on z₀ = κ · μ(x), where the **scale factor** κ = 1/std(μ) over the training
set makes the latents unit-variance (Stable Diffusion's 0.18215 is the same recipe for its own autoencoder, estimated
differently: 1/std of the sampled latents μ + σε of the first training batch): the noise
schedule was designed for data of variance ≈ 1, and a latent of std 5 would stay recognisable long after
pixels would have drowned. Sampling runs the usual sampler in latent space and decodes x = D(z₀/κ) once.

``LatentDiffusionModel`` is a ``DiffusionModel`` over latents that carries its autoencoder and κ, so a
checkpoint loaded by name samples latents with every sampler and ``decode`` turns them into images.
"""
from __future__ import annotations

import math

import torch

from . import checkpoint
from ._checks import check_batched, check_int, check_real, check_same_shape
from ._random import randn
from .families.vae import reparameterize
from .forward import kl_standard_normal
from .model import DiffusionModel


def autoencoder_loss(ae, x: torch.Tensor, kl_weight: float = 1e-6, generator=None) -> torch.Tensor:
    """L_AE per pixel: (‖x − D(μ + σε)‖² + β KL) / (pixels per image), averaged over the batch.

    kl_weight β is relative to the summed squared error, as in latent diffusion's KL-f4 configurations
    (β = 1e-6): enough to keep the latents' scale bounded and their posterior smooth, too little to blur."""
    kl_weight = check_real("kl_weight", kl_weight, low=0)
    mean, logvar = ae.encode(x)
    z = reparameterize(mean, logvar, randn(mean.shape, mean, generator))     # z = μ + σ ε
    rec = ((ae.decode(z) - x) ** 2).flatten(1).sum(1)
    return ((rec + kl_weight * kl_standard_normal(mean, logvar)) / x[0].numel()).mean()


def psnr(x: torch.Tensor, x_hat: torch.Tensor) -> torch.Tensor:
    """Peak signal-to-noise ratio per image in dB, for images in [−1, 1] (peak 1 on the [0, 1] scale):
    10 log₁₀(1 / MSE), MSE on [0, 1]. (B,)"""
    check_batched("x", x)
    check_batched("x_hat", x_hat)
    if x.ndim < 2:
        raise ValueError(f"x must be images (batch, ...), one row per image, got shape {tuple(x.shape)}")
    check_same_shape("x", x, "x_hat", x_hat)
    mse = (((x.double() - x_hat.double()) / 2) ** 2).flatten(1).mean(1)
    return 10 * torch.log10(1.0 / mse.clamp(min=1e-20))


@torch.no_grad()
def encode_means(ae, images: torch.Tensor, batch: int = 100) -> torch.Tensor:
    """μ(x) for every image, in batches, on the CPU (float32)."""
    batch = check_int("batch", batch, low=1)
    check_batched("images", images)
    dev = next(ae.parameters()).device
    out = [ae.encode(images[i:i + batch].to(dev))[0].float().cpu() for i in range(0, len(images), batch)]
    return torch.cat(out)


def scale_factor(latents: torch.Tensor) -> float:
    """κ = 1/std of the training latents (all entries pooled), so κ μ(x) has unit standard deviation."""
    check_batched("latents", latents)
    if latents.numel() < 2:
        raise ValueError(f"latents must hold at least two values to measure a spread, got shape {tuple(latents.shape)}")
    std = float(latents.double().std())
    if not math.isfinite(std) or std == 0:
        raise ValueError(f"latents must vary to measure a scale factor (their std is {std})")
    return 1.0 / std


@checkpoint.register_kind("autoencoder", "model", "config", "scale")
class LatentDiffusionModel(DiffusionModel):
    """A diffusion model over κ-scaled latents that carries the autoencoder that defines them.

    Samplers see an ordinary model over (B, c, h, w) latents; ``decode(z)`` = D(z/κ) gives images and
    ``encode(x)`` = κ μ(x) gives the latents of images (e.g. to noise a real image and denoise it)."""

    def __init__(self, net, process, prediction="eps", num_classes=None, meta=None, *, autoencoder, scale: float):
        super().__init__(net, process, prediction, num_classes, meta)
        if not isinstance(autoencoder, torch.nn.Module) or not all(callable(getattr(autoencoder, f, None))
                                                                   for f in ("encode", "decode")):
            raise TypeError(f"autoencoder must be a network with encode and decode (models.Autoencoder), got "
                            f"{type(autoencoder).__name__}")
        self.autoencoder, self.scale = autoencoder.eval(), check_real("scale", scale, low=0, low_open=True)

    def _in(self, name: str, v: torch.Tensor) -> torch.Tensor:
        """Images or latents checked (floating point, finite: a NaN would decode into a NaN image without a word)
        and moved to the autoencoder's device and dtype."""
        check_batched(name, v)
        return v.to(self.device, next(self.autoencoder.parameters()).dtype)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return (self.scale * self.autoencoder.encode(self._in("x", x))[0]).to(x.dtype)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.autoencoder.decode(self._in("z", z) / self.scale).to(z.dtype)

    def to(self, device=None, dtype=None) -> "LatentDiffusionModel":
        super().to(device, dtype)
        self.autoencoder.to(device=device, dtype=dtype)
        return self

    def with_process(self, process) -> "LatentDiffusionModel":
        return LatentDiffusionModel(self.net, process, self.prediction, self.num_classes, self.meta,
                                    autoencoder=self.autoencoder, scale=self.scale)

    def checkpoint_part(self):
        """What a checkpoint adds for a latent model (``checkpoint.register_kind``): the autoencoder and κ."""
        ae = self.autoencoder
        return {"model": type(ae).__name__, "config": ae.config, "scale": self.scale}, ae.state_dict(), self

    @classmethod
    def from_checkpoint(cls, part: dict, inner: DiffusionModel, tensors: dict, build) -> "LatentDiffusionModel":
        return cls(inner.net, inner.process, inner.prediction, inner.num_classes, inner.meta,
                   autoencoder=build(part, tensors), scale=part["scale"])

    def __repr__(self):
        return super().__repr__()[:-1] + f", latents {self.sample_shape} decoded to images, κ = {self.scale:.4f})"
