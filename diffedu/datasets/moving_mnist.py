"""Moving MNIST: short clips of one MNIST digit gliding at constant velocity and bouncing off the walls
(after Srivastava, Mansimov & Salakhutdinov 2015, "Unsupervised Learning of Video Representations using
LSTMs"), generated here from the shipped MNIST files — lesson 14's video data.

    clips = moving_mnist.MovingDigits("train")            # the 60,000 training digits, shrunk once
    x, y, pos = clips.sample(64, generator=g)              # x (64, T, 1, S, S) in [−1, 1]; y (64,); pos (64, T, 2)

A clip is T frames of an S×S canvas at −1 (black) with the digit, shrunk to a d×d box, pasted at an integer
corner p_k = (row, column) per frame k. The corner moves by a constant velocity v ∈ {−v_max..v_max}² (not 0)
and reflects off the walls 0 and S − d: p ← −p or 2(S − d) − p, and v changes sign on that axis. Integer
positions keep every frame an exact copy of the digit (no resampling blur), so the ink centroid of frame k
is p_k + the digit's own centroid in its box: ``sample`` returns that centroid as ``pos`` (rows, columns;
``tests/test_video.py`` checks it against the frames).

Layout: (B, T, C, H, W), time before channels: a clip is a list of frames; ``frames_first`` and
``channels_first`` convert to and from PyTorch's video convention (B, C, T, H, W).
"""
from __future__ import annotations

import torch
from torch.nn import functional as F

from .._checks import check_generator, check_int

DEFAULTS = dict(frames=8, size=24, digit=14, max_speed=3)   # lesson 14's clips (recipe video-dit)


def shrink(digits: torch.Tensor, d: int) -> torch.Tensor:
    """(N, 1, 28, 28) in [−1, 1] → (N, 1, d, d): area-averaged (antialiased), still in [−1, 1]."""
    if not torch.is_tensor(digits) or digits.ndim != 4 or digits.shape[1] != 1:
        raise ValueError(f"digits must be (N, 1, H, W) images, got "
                         f"{tuple(digits.shape) if torch.is_tensor(digits) else type(digits).__name__}")
    return F.interpolate(digits.float(), size=(d, d), mode="bilinear", antialias=True, align_corners=False
                         ).clamp(-1, 1)


def ink_centroid(frames: torch.Tensor) -> torch.Tensor:
    """The ink's centre of mass (row, column) of frames (…, 1, H, W) in [−1, 1]: Σ_ij w_ij (i, j) / Σ w,
    w = (x + 1)/2 the ink. A blank frame (no ink) gives the canvas centre."""
    if not torch.is_tensor(frames) or frames.ndim < 3 or not frames.is_floating_point():
        raise ValueError(f"frames must be a float tensor (…, C, H, W), got "
                         f"{tuple(frames.shape) if torch.is_tensor(frames) else type(frames).__name__}")
    H, W = frames.shape[-2:]
    w = ((frames.double() + 1) / 2).clamp(min=0).sum(-3)                 # (…, H, W), channels summed
    mass = w.sum((-2, -1))
    rows = torch.arange(H, dtype=torch.float64, device=w.device)
    cols = torch.arange(W, dtype=torch.float64, device=w.device)
    r = (w.sum(-1) * rows).sum(-1) / mass.clamp(min=1e-12)
    c = (w.sum(-2) * cols).sum(-1) / mass.clamp(min=1e-12)
    empty = mass <= 1e-12
    r, c = torch.where(empty, (H - 1) / 2, r), torch.where(empty, (W - 1) / 2, c)
    return torch.stack([r, c], -1)


def bounce_path(start: torch.Tensor, velocity: torch.Tensor, frames: int, room: int) -> torch.Tensor:
    """Integer corners (B, T, 2) from start (B, 2) and velocity (B, 2), reflecting off 0 and ``room``."""
    p, v, out = start.clone(), velocity.clone(), [start.clone()]
    for _ in range(frames - 1):
        p = p + v
        low, high = p < 0, p > room
        p = torch.where(low, -p, torch.where(high, 2 * room - p, p))
        v = torch.where(low | high, -v, v)
        out.append(p.clone())
    return torch.stack(out, 1)


def paste(digits: torch.Tensor, corners: torch.Tensor, size: int) -> torch.Tensor:
    """Clips (B, T, 1, size, size): digit b (B, 1, d, d) at corner (row, column) = corners[b, k] in frame k;
    the rest of the canvas −1."""
    B, T, _ = corners.shape
    d = digits.shape[-1]
    ar = torch.arange(size, device=digits.device)
    rows = ar[None, None, :] - corners[..., 0:1]                                  # (B, T, size)
    cols = ar[None, None, :] - corners[..., 1:2]
    inside = ((rows >= 0) & (rows < d))[..., :, None] & ((cols >= 0) & (cols < d))[..., None, :]
    flat = rows.clamp(0, d - 1)[..., :, None] * d + cols.clamp(0, d - 1)[..., None, :]   # (B, T, size, size)
    src = digits.reshape(B, 1, d * d).expand(B, T, d * d)
    vals = torch.gather(src, 2, flat.reshape(B, T, -1)).reshape(B, T, size, size)
    return torch.where(inside, vals, torch.full_like(vals, -1.0)).unsqueeze(2)


class MovingDigits:
    """Clips of one moving MNIST digit from ``split`` ("train" or "test"); see the module's docstring."""

    def __init__(self, split: str = "train", frames: int = 8, size: int = 24, digit: int = 14, max_speed: int = 3,
                 data: tuple | None = None):
        self.frames = check_int("frames", frames, low=2)
        self.size = check_int("size", size, low=2)
        self.digit = check_int("digit", digit, low=1, high=size - 1)
        self.max_speed = check_int("max_speed", max_speed, low=1, high=size - digit)
        if data is None:
            from . import mnist

            data = mnist.load(split)
        images, labels = data
        self.images, self.labels = shrink(images, digit), labels
        self.offsets = ink_centroid(self.images)                         # (N, 2): each digit's centroid in its box
        self.config = dict(frames=frames, size=size, digit=digit, max_speed=max_speed)

    def __len__(self) -> int:
        return self.images.shape[0]

    def sample(self, n: int, generator: torch.Generator | None = None, labels=None):
        """n clips: (x (n, T, 1, S, S), y (n,), centroids (n, T, 2) as (row, column), float64).

        labels: optionally one digit class per clip (its digit is drawn from that class)."""
        n = check_int("n", n, low=1)
        check_generator("generator", generator)
        if labels is None:
            idx = torch.randint(0, len(self), (n,), generator=generator)
        else:
            from .._checks import check_labels

            labels = check_labels("labels", labels, 10, n)
            idx = torch.empty(n, dtype=torch.long)
            for c in labels.unique().tolist():
                pool = (self.labels == c).nonzero().squeeze(1)
                where = (labels == c).nonzero().squeeze(1)
                idx[where] = pool[torch.randint(0, len(pool), (len(where),), generator=generator)]
        room, m = self.size - self.digit, self.max_speed
        start = torch.randint(0, room + 1, (n, 2), generator=generator)
        v = torch.randint(-m, m, (n, 2), generator=generator)
        v = v + (v >= 0).long()                                          # {−m..−1, 1..m}: never still on an axis
        corners = bounce_path(start, v, self.frames, room)
        x = paste(self.images[idx], corners, self.size)
        return x, self.labels[idx].clone(), corners.double() + self.offsets[idx][:, None, :]

    def batches(self, batch_size: int):
        """``batches(generator) -> (x, y)`` for ``diffedu.train``: fresh clips every call."""
        batch_size = check_int("batch_size", batch_size, low=1)

        def draw(generator):
            x, y, _ = self.sample(batch_size, generator)
            return x, y

        return draw


def channels_first(clips: torch.Tensor) -> torch.Tensor:
    """(B, T, C, H, W) → (B, C, T, H, W), PyTorch's video layout (Conv3d)."""
    return _video(clips, "clips").transpose(1, 2)


def frames_first(clips: torch.Tensor) -> torch.Tensor:
    """(B, C, T, H, W) → (B, T, C, H, W), this course's layout: a clip is a list of frames."""
    return _video(clips, "clips").transpose(1, 2)


def _video(x, name):
    if not torch.is_tensor(x) or x.ndim != 5:
        raise ValueError(f"{name} must be a 5-D tensor of clips, got "
                         f"{tuple(x.shape) if torch.is_tensor(x) else type(x).__name__}")
    return x
