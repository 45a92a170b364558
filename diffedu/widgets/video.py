"""Lesson 14 — video: a generated clip to watch (digit and w → DDIM on the spacetime DiT, a frame slider with
Play), and the forward process on a clip (a t slider: every frame noised with the same x_t = α_t x_0 + σ_t ε)."""
from __future__ import annotations

from functools import lru_cache

import ipywidgets as W
import matplotlib.pyplot as plt
import torch

from ..datasets.moving_mnist import ink_centroid
from ..plotting import show, use_style
from ._base import live, player


def draw_clip(clip: torch.Tensor, frame: int, title: str = "", path: bool = True, vmin: float = -1.0,
              vmax: float = 1.0):
    """One clip (T, 1, H, W): frame ``frame`` large, with the ink centroid's path so far, beside the filmstrip
    of all T frames (the current one framed)."""
    use_style()
    T = clip.shape[0]
    fig = plt.figure(figsize=(9.0, 3.0))
    big = fig.add_axes([0.01, 0.04, 0.27, 0.82])
    big.imshow(clip[frame, 0].numpy(), cmap="gray", vmin=vmin, vmax=vmax)
    if path:
        c = ink_centroid(clip.float()).numpy()                           # (T, 2): row, column
        big.plot(c[: frame + 1, 1], c[: frame + 1, 0], "-o", color="tab:orange", ms=3, lw=1)
    big.set(xticks=[], yticks=[], title=f"frame {frame} of {T}")
    for k in range(T):
        ax = fig.add_axes([0.31 + k * 0.086, 0.30, 0.08, 0.4])
        ax.imshow(clip[k, 0].numpy(), cmap="gray", vmin=vmin, vmax=vmax)
        ax.set(xticks=[], yticks=[])
        for s in ax.spines.values():
            s.set(color="tab:orange" if k == frame else "0.7", lw=2.5 if k == frame else 0.5)
        ax.set_title(str(k), fontsize=8)
    if title:
        fig.suptitle(title, x=0.64, y=0.95, fontsize=10)
    show(fig)


def sample_clip(model, digit: int, w: float, steps: int, seed: int = 0) -> torch.Tensor:
    """One clip of ``digit`` by DDIM-``steps`` on ``model.given(digit, w)``: (T, C, H, W), the network's shape."""
    from ..samplers import ddim_sample

    shape = tuple(model.net.config[k] for k in ("frames", "in_channels", "image_size", "image_size"))
    x = torch.randn((1,) + shape, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        return ddim_sample(model.given(torch.tensor([digit]), w), x, steps, clip_x0=1.0)[0]


def clip_player(model, steps: int = 20, seed: int = 0, classifier=None, digit_px: int = 14):
    """Choose a digit and w: a clip is sampled (cached per (digit, w)); slide or play its frames. With
    ``classifier``, the title says what the classifier reads in each frame."""
    T = model.net.config["frames"]

    @lru_cache(maxsize=64)
    def compute(digit, w):
        clip = sample_clip(model, digit, w, steps, seed)
        read = ""
        if classifier is not None:
            from ..video_metrics import frame_digits, path_deviation

            d = frame_digits(classifier, clip[None], digit_px)[0].tolist()
            dev = float(path_deviation(ink_centroid(clip[None].float()))[0])
            read = f"   ·   read per frame: {''.join(map(str, d))}   ·   path deviation {dev:.2f} px"
        return clip, read

    def draw(digit, w, frame):
        clip, read = compute(digit, w)
        draw_clip(clip, frame, f"digit {digit}, w = {w:g}, DDIM {steps} steps{read}")

    play, fslider, pbox = player(T, interval_ms=250, description="frame")
    c = dict(digit=W.Dropdown(options=list(range(10)), value=3, description="digit"),
             w=W.FloatSlider(value=3.0, min=0.0, max=6.0, step=1.0, description="w", continuous_update=False),
             frame=fslider)
    box = live(draw, c, header=W.VBox([W.HBox([c["digit"], c["w"]]), pbox]), busy_text="sampling…",
               site="frame")
    box.controls, box.compute, box.play = c, compute, play
    return box


def clip_forward(clip: torch.Tensor, process, seed: int = 0):
    """The forward process on one clip (T, 1, H, W): slide t, every frame noised at the same t with one ε
    for the whole clip (a clip is one sample: x_t = α_t x_0 + σ_t ε, ε of the clip's shape)."""
    eps = torch.randn(clip.shape, generator=torch.Generator().manual_seed(seed))
    T = int(getattr(process, "T", 1000))

    def draw(t, frame):
        tt = process.time_tensor(t, 1, "cpu")
        xt = clip if t == 0 else process.q_sample(clip[None].double(), tt, eps[None].double())[0].float()
        a, s = (float(v[0]) for v in process.alpha_sigma(tt))
        draw_clip(xt, frame, f"x_t = α_t x_0 + σ_t ε at t = {t}:  α_t = {a:.3f}, σ_t = {s:.3f}", path=t == 0,
                  vmin=-2.5 if t else -1.0, vmax=2.5 if t else 1.0)

    play, fslider, pbox = player(clip.shape[0], interval_ms=250, description="frame")
    c = dict(t=W.IntSlider(value=T // 4, min=0, max=T, step=T // 50, description="t", continuous_update=True),
             frame=fslider)
    box = live(draw, c, header=W.VBox([c["t"], pbox]), site="t")
    box.controls, box.play = c, play
    return box
