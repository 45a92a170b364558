"""Images for given labels or prompts from any image model (pixel or latent), and the digit grids of lessons 06–07."""
from __future__ import annotations

from numbers import Integral

import matplotlib.pyplot as plt
import torch

from ._checks import check_int
from .datasets.mnist import to_image
from .model import DiffusionModel
from .plotting import show, show_mosaic, use_style
from .precision import inference_autocast
from .samplers import ddim_sample


def _count(cond) -> int:
    """How many samples ``cond`` asks for: one per label, prompt or row of token ids (an int of any kind — Python,
    NumPy, a 0-dim tensor or array — or a string: one)."""
    if isinstance(cond, (str, Integral)) or getattr(cond, "ndim", None) == 0:
        return 1
    return len(cond)


@torch.no_grad()
def sample_images(model, cond, w=1.0, steps: int = 25, x_T: torch.Tensor | None = None, seed: int = 0,
                  bf16: bool | None = None, batch: int | None = None) -> torch.Tensor:
    """Images (B, C, H, W) in [−1, 1] on the CPU from a conditional image model, pixel or latent: DDIM-``steps`` on
    ``model.given(cond, w)`` from ``x_T`` (default: seeded noise of ``model.sample_shape``, one sample per label or
    prompt), then ``model.decode`` (the identity for a pixel model; a latent model's decoder). A pixel model's x̂₀
    is clipped to [−1, 1] at every step; latents have no such range, so a latent model's images are clipped once.

    cond:  what ``model.given`` takes: class labels (B,), or prompts (B strings, or (B, L) token ids).
    w:     the guidance scale, a number or a (B,) tensor (one per sample).
    bf16:  run the network in bfloat16 (None: where the device does it natively; ``diffedu.precision``).
    batch: sample at most this many at a time (memory); None: all at once."""
    if x_T is None:
        x_T = torch.randn(_count(cond), *model.sample_shape, generator=torch.Generator().manual_seed(seed))
    n, dev = x_T.shape[0], model.device
    step = n if batch is None else check_int("batch", batch, low=1)
    latent = type(model).decode is not DiffusionModel.decode
    def part(v, i):  # the rows i … i + step of a per-sample argument (a number, an int or a string: all rows)
        sliced = torch.is_tensor(v) and v.ndim or isinstance(v, (list, tuple))
        return v[i:i + step] if step < n and sliced else v

    out = []
    for i in range(0, n, step):
        with inference_autocast(dev, bf16):
            x = ddim_sample(model.given(part(cond, i), part(w, i)), x_T[i:i + step].to(dev), steps,
                            clip_x0=None if latent else 1.0)
            x = model.decode(x).float() if latent else x
        out.append(x.clamp(-1, 1).cpu())
    return out[0] if len(out) == 1 else torch.cat(out)


@torch.no_grad()
def sample_grid(model, w: float = 1.0, per_class: int = 2, steps: int = 25, seed: int = 0, classes=range(10),
                bf16: bool | None = None):
    """``per_class`` digits of each class from fixed-seed noise: DDIM-``steps`` with classifier-free guidance
    scale w (``model.given(labels, w)``), x̂_0 clipped to the pixel range. Returns (images, labels) on the CPU.

    bf16: run the network in bfloat16 (None: where the device does it natively; ``diffedu.precision``)."""
    labels = torch.tensor([c for c in classes for _ in range(per_class)])
    return sample_images(model, labels, w, steps, seed=seed, bf16=bf16), labels


def draw_grid(images: torch.Tensor, labels: torch.Tensor, per_class: int, title: str = ""):
    """Digits in columns by class (``per_class`` rows), each column headed by its label (one mosaic)."""
    use_style()
    n_cls = len(labels) // per_class
    fig, ax = plt.subplots(figsize=(n_cls * 0.95, per_class * 1.0 + 0.5))
    imgs = to_image(images)                                      # (n, H, W), class by class
    order = [c * per_class + r for r in range(per_class) for c in range(n_cls)]   # row-major for the mosaic
    show_mosaic(ax, imgs[order], per_class, n_cls, [str(int(labels[c * per_class])) for c in range(n_cls)],
                cmap="gray", vmin=0, vmax=1)
    ax.set_yticks([])
    if title:
        fig.suptitle(title, fontsize=10)
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=0.86 if per_class > 1 else 0.75)
    show(fig)
