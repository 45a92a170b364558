"""Measuring clips without a learned judge of video: per-frame digits read by the shipped MNIST classifier,
and how straight the digit's path is — lesson 14's video measurements.

Per-frame digit. The classifier (``pretrained("mnist-classifier")``) was trained on 28×28 digits, 20 px tall,
centred by their centre of mass. Each frame is cropped to a d×d window centred on its ink centroid (d: the
digit box of the data, 14 px) and resized to 28×28, undoing the data's shrinking; ``frame_digits`` returns the
class it reads in every frame.

Straightness. The data move at constant velocity and reflect off the walls, so on each axis the centroid is
u(k) = a + v·g(k) with g a *folded* time: g(k) = k until the first bounce at τ₁, then 2τ₁ − k (the velocity flips)
until τ₂, then k − 2τ₁ + 2τ₂, … — for fixed bounce times, a straight-line least-squares fit in (a, v). We try no
bounce, one and two bounces per axis at every τ on a 1/12-frame grid (in 7 frame intervals at ≤ 3 px a frame
and 10 px between the walls, two bounces per axis are the most a data clip holds), keep the best fit, and report
the centroid's mean distance (px) from it, per clip. One speed |v| per axis for the whole clip, the walls where
the fit puts them: unfolding the reflection by these bounce times keeps the claim "constant velocity between
walls" while needing no wall positions (a generated digit's centroid sits at an unknown offset in its box).
Fitting each segment between bounces separately would let every segment pick its own speed — with segments
of 2 frames, any path would fit. Reference points: real clips score 0 (up to the grid), the same clips with
their frames shuffled show what a path without constant velocity scores.
"""
from __future__ import annotations

from functools import lru_cache

import torch
from torch.nn import functional as F

from .datasets.moving_mnist import ink_centroid


def _clips(x, name="clips"):
    if not torch.is_tensor(x) or x.ndim != 5 or not x.is_floating_point():
        raise ValueError(f"{name} must be float clips (B, T, C, H, W), got "
                         f"{tuple(x.shape) if torch.is_tensor(x) else type(x).__name__}")
    return x


def crop_digits(clips: torch.Tensor, digit: int = 14) -> torch.Tensor:
    """Frames (B, T, 1, H, W) → 28×28 crops (B·T, 1, 28, 28): a digit×digit window around each frame's ink
    centroid, bilinearly resized; outside the canvas reads as background (−1)."""
    x = _clips(clips)
    B, T, C, H, W = x.shape
    frames = x.reshape(B * T, C, H, W).float()
    c = ink_centroid(frames).float()                                          # (B·T, 2): row, column
    theta = torch.zeros(B * T, 2, 3)
    theta[:, 0, 0], theta[:, 1, 1] = digit / W, digit / H
    theta[:, 0, 2] = (2 * c[:, 1] + 1) / W - 1
    theta[:, 1, 2] = (2 * c[:, 0] + 1) / H - 1
    grid = F.affine_grid(theta.to(frames.device), (B * T, C, 28, 28), align_corners=False)
    return F.grid_sample(frames + 1, grid, mode="bilinear", padding_mode="zeros", align_corners=False) - 1


@torch.no_grad()
def frame_digits(classifier, clips: torch.Tensor, digit: int = 14, batch: int = 2000) -> torch.Tensor:
    """The class the classifier reads in every frame: (B, T) integer labels."""
    B, T = _clips(clips).shape[:2]
    crops = crop_digits(clips, digit)
    classifier.eval()
    dev = next(classifier.parameters()).device
    out = [classifier(crops[i:i + batch].to(dev)).argmax(1).cpu() for i in range(0, len(crops), batch)]
    return torch.cat(out).reshape(B, T)


@lru_cache(maxsize=16)
def _folded(frames: int, step: float, max_bounces: int) -> torch.Tensor:
    k = torch.arange(frames, dtype=torch.float64)
    taus = torch.arange(step, frames - 1, step, dtype=torch.float64)
    rows = [k[None]]
    for n in range(1, max_bounces + 1):
        tt = torch.combinations(taus, n) if n > 1 else taus[:, None]          # (K, n), increasing bounce times
        g, off, sign = k.expand(len(tt), frames).clone(), torch.zeros(len(tt), 1, dtype=torch.float64), 1.0
        for j in range(n):  # after each bounce the clock runs backwards, continuously: k ↦ (off + 2·sign·τ) − sign·k
            tau = tt[:, j:j + 1]
            off, sign = off + 2 * sign * tau, -sign
            g = torch.where(k > tau, off + sign * k, g)
        rows.append(g)
    return torch.cat(rows)


def folded_times(frames: int, step: float = 1 / 12, max_bounces: int = 2) -> torch.Tensor:
    """Every folded clock g (K, frames) with up to ``max_bounces`` bounces at times on a ``step`` grid:
    g(k) = k before τ₁, 2τ₁ − k between τ₁ and τ₂, k − 2τ₁ + 2τ₂ after τ₂, …"""
    return _folded(int(frames), float(step), int(max_bounces)).clone()


def path_deviation(centroids: torch.Tensor, step: float = 1 / 12, max_bounces: int = 2) -> torch.Tensor:
    """Each clip's mean distance (px) of its centroids (B, T, 2) from the best constant-velocity path with up to
    ``max_bounces`` reflections per axis (see the module's docstring): (B,) float64."""
    if not torch.is_tensor(centroids) or centroids.ndim != 3 or centroids.shape[-1] != 2 or centroids.shape[1] < 3:
        raise ValueError(f"centroids must be (B, T, 2) with T >= 3, got "
                         f"{tuple(centroids.shape) if torch.is_tensor(centroids) else type(centroids).__name__}")
    u = centroids.double()
    g = folded_times(u.shape[1], step, max_bounces)                              # (K, T)
    gc = g - g.mean(1, keepdim=True)
    var = (gc ** 2).sum(1).clamp(min=1e-12)                                      # (K,)
    res2 = []
    for axis in range(2):
        y = u[..., axis]                                                         # (B, T)
        yc = y - y.mean(1, keepdim=True)
        slope = (yc @ gc.T) / var                                                # (B, K): least-squares v
        best = (slope ** 2 * var).argmax(1)          # the least residual Σ yc² − v²·Σ gc²: the largest v²·Σ gc²
        res2.append((yc - slope[torch.arange(len(y)), best, None] * gc[best]) ** 2)   # (B, T)
    return (res2[0] + res2[1]).sqrt().mean(1)


def clip_scores(classifier, clips: torch.Tensor, labels: torch.Tensor, digit: int = 14) -> dict:
    """Per clip: the fraction of frames read as the asked digit, and the path deviation (px)."""
    digits = frame_digits(classifier, clips, digit)
    return {"digit_rate": (digits == labels.cpu()[:, None]).double().mean(1),
            "deviation": path_deviation(ink_centroid(clips.cpu().float())),
            "frame_digits": digits}


def summary(values: torch.Tensor) -> tuple[float, float]:
    """(mean, standard error) over clips."""
    v = values.double()
    return float(v.mean()), float(v.std(unbiased=True) / len(v) ** 0.5) if len(v) > 1 else float("nan")


def sample_clips(model, labels, w=3.0, steps: int = 25, seed: int = 0, batch: int | None = 100) -> torch.Tensor:
    """Clips (B, T, C, H, W) in [−1, 1] of the asked digits: ``images.sample_images`` — DDIM-``steps`` on
    ``model.given(labels, w)``, x̂_0 clipped — from seeded noise of the clip's shape (the samplers take any shape)."""
    from .images import sample_images

    cfg = model.net.config
    labels = torch.as_tensor(labels)
    shape = (cfg["frames"], cfg["in_channels"], cfg["image_size"], cfg["image_size"])
    x_T = torch.randn((len(labels),) + shape, generator=torch.Generator().manual_seed(seed))
    return sample_images(model, labels, w, steps, x_T=x_T, batch=batch)
