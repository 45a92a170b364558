"""Lesson 10 — text conditioning: a prompt box with a CFG slider that generates digits, the cross-attention map
of each token of a prompt, and the CLIP similarity matrix of a batch."""
from __future__ import annotations

import textwrap
from functools import lru_cache

import ipywidgets as W
import matplotlib.pyplot as plt
import torch

from ..datasets.mnist import to_image
from ..images import sample_images
from ..plotting import show, show_mosaic, tile_centre, use_style
from ._base import live


NOTE_SIZE = 7           # pt: the labels under the title of each image
PANEL = 0.95            # inches a digit takes in a row (its label wraps to fit: nothing is cut)


def wrap_note(note, width_in: float = PANEL, fontsize: float = NOTE_SIZE) -> str:
    """A label broken at spaces into lines that fit ``width_in`` inches at ``fontsize`` (an average glyph is
    taken as 0.6 em wide, a little more than DejaVu Sans's digits and lower-case letters)."""
    chars = max(4, int(width_in * 72 / (0.6 * fontsize)))
    return textwrap.fill(str(note), chars, break_long_words=False, break_on_hyphens=False)


def digits_figure(images: torch.Tensor, title: str = "", notes=None):
    """The figure of ``draw_digits`` (not shown): one row of digits (one mosaic), each under its whole note,
    wrapped to the digit's width."""
    use_style()
    n = len(images)
    wrapped = [wrap_note(t) for t in notes] if notes is not None else None
    lines = max([w.count("\n") + 1 for w in wrapped], default=1) if wrapped else 1
    top_in = (0.3 if title else 0.06) + (0.13 * lines if wrapped else 0.0)     # suptitle, then the labels
    panel_h, bottom_in = PANEL * 0.99 * 0.95, 0.03
    height = bottom_in + panel_h + top_in
    fig, ax = plt.subplots(figsize=(n * PANEL, height))
    imgs = to_image(images)                                                   # (n, H, W)
    show_mosaic(ax, imgs, 1, n, cmap="gray", vmin=0, vmax=1)
    ax.set_xticks([]); ax.set_yticks([])
    w = imgs.shape[-1]
    for i, note in enumerate(wrapped or []):
        ax.text(tile_centre(i, w), -1.5, note, ha="center", va="bottom", fontsize=NOTE_SIZE,
                linespacing=1.1)
    if title:
        fig.suptitle(title, fontsize=10, y=1 - 0.04 / height, va="top")
    fig.subplots_adjust(left=0.01, right=0.99, bottom=bottom_in / height, top=1 - top_in / height)
    return fig


def draw_digits(images: torch.Tensor, title: str = "", notes=None):
    """One row of digits with a title and, if given, one note per image (shown whole: long notes wrap)."""
    show(digits_figure(images, title, notes))


def prompt_box(model, prompt: str = "a thick seven", n: int = 10, w: float = 3.0, steps: int = 10, seed: int = 0,
               judge=None, w_max: float = 8.0):
    """Type a prompt (Enter to generate) and slide w: ``n`` digits from fixed noise. ``judge(images, prompt)``,
    if given, returns one short note per image (e.g. what a classifier and the attribute measures say). An
    unknown word is reported under the box, with the vocabulary."""
    x_T = torch.randn(n, *model.sample_shape, generator=torch.Generator().manual_seed(seed))
    message = W.HTML("")

    @lru_cache(maxsize=64)
    def compute(prompt, w):
        return sample_images(model, [prompt] * n, w, steps, x_T=x_T)

    def draw(prompt, w):
        try:
            model.net.tokenizer.encode(prompt)
        except ValueError as e:
            message.value = f"<span style='color:#b00'>{e}</span>"
            return
        message.value = ""
        images = compute(prompt, float(w))
        draw_digits(images, f"“{prompt}”, w = {w:g}  (DDIM-{steps}, same noise)",
                    judge(images, prompt) if judge is not None else None)

    text = W.Text(value=prompt, description="prompt", continuous_update=False, layout=W.Layout(width="420px"))
    slider = W.FloatSlider(value=w, min=0.0, max=w_max, step=0.5, description="w", continuous_update=False)
    box = live(draw, {"prompt": text, "w": slider}, header=W.VBox([W.HBox([text, slider]), message]),
               busy_text="sampling…")
    box.controls, box.compute = {"prompt": text, "w": slider}, compute
    return box


@torch.no_grad()
def token_maps(model, x0: torch.Tensor, prompt: str, t: int, noise: torch.Tensor, resolution: int = 14):
    """The cross-attention weights of every token of ``prompt`` over the image positions, for x_t made from one
    clean digit x0 (1, 28, 28) at step t: averaged over the layers at ``resolution`` and their heads.
    Returns (words, maps (len(words), resolution, resolution), x_t)."""
    net, dev = model.net, model.device
    tokens = net.tokenizer.encode(prompt).to(dev)
    tt = model.process.time_tensor(t, 1, dev)
    xt = model.process.q_sample(x0[None].to(dev), tt, noise[None].to(dev))
    _, maps = net(xt, model.process.net_time(tt), tokens, attention_maps=True)
    picked = [m[0] for m in maps if m.shape[1] == resolution]
    if not picked:
        raise ValueError(f"no cross-attention at resolution {resolution}: the model has "
                         f"{sorted({m.shape[1] for m in maps})}")
    words = net.tokenizer.decode(tokens[0]).replace(",", " ,").split() + ["<eos>"]
    return words, torch.stack(picked).mean(0)[..., :len(words)].permute(2, 0, 1).float().cpu(), xt[0].cpu()


def draw_token_maps(x0, words, maps, title: str = ""):
    use_style()
    n = len(words) + 1
    fig, axes = plt.subplots(1, n, figsize=(n * 1.2, 1.7), squeeze=False)
    axes[0, 0].imshow(to_image(x0), cmap="gray", vmin=0, vmax=1)
    axes[0, 0].set_title("digit", fontsize=8)
    for ax, word, m in zip(axes[0, 1:], words, maps):
        ax.imshow(m, cmap="magma", vmin=0, vmax=float(maps.max()))
        ax.set_title(f"“{word}”", fontsize=8)
    for ax in axes[0]:
        ax.set_xticks([]); ax.set_yticks([]); ax.grid(False)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.02, top=0.72, wspace=0.08)
    show(fig)


def similarity_matrix(logits: torch.Tensor, captions: list, images: torch.Tensor, title: str = ""):
    """CLIP's (B, B) similarities with the images along the left and the captions along the top."""
    use_style()
    B = len(captions)
    fig = plt.figure(figsize=(B * 0.55 + 1.4, B * 0.55 + 2.2))
    ax = fig.add_axes([0.12, 0.02, 0.86, 0.7])
    ax.imshow(logits.float().cpu(), cmap="viridis")
    ax.set_xticks(range(B), captions, rotation=60, ha="left", fontsize=7)
    ax.xaxis.tick_top()
    ax.set_yticks([])
    ax.grid(False)
    for i, im in enumerate(to_image(images)):
        sub = fig.add_axes([0.02, 0.72 - (i + 1) * 0.7 / B, 0.09, 0.7 / B])
        sub.imshow(im, cmap="gray", vmin=0, vmax=1)
        sub.set_xticks([]); sub.set_yticks([]); sub.grid(False)
    if title:
        fig.suptitle(title, fontsize=10, y=0.995)
    show(fig)
