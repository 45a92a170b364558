"""Lesson 08 — colour images: classifier-free guidance for several models side by side (one slider, the same
noise and labels for all), and the attention of a DiT block over an image (pick a query patch, see where it
looks)."""
from __future__ import annotations

from functools import lru_cache

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np
import torch

from .. import metrics
from ..datasets.cifar10 import CLASSES, to_image
from ..plotting import show, show_mosaic, use_style
from ..images import sample_images
from ._base import live, per_position


def draw_rows(rows, labels: torch.Tensor, title: str = "", class_names=CLASSES):
    """One row of colour images per entry of ``rows`` = [(name, images (n, 3, H, W), note)], columns headed by
    the class names of ``labels`` (one mosaic: a redraw for the CFG slider costs a fraction of 30 axes)."""
    use_style()
    n = len(labels)
    fig, ax = plt.subplots(figsize=(n * 0.95 + 1.2, len(rows) * 1.05 + 0.55))
    imgs = np.concatenate([to_image(images[:n]) for _, images, _ in rows])   # a row shows one image per label
    show_mosaic(ax, imgs, len(rows), n, [class_names[int(c)] for c in labels],
                [name + (f"\n{note}" if note else "") for name, _, note in rows])
    ax.tick_params(labelsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.subplots_adjust(left=1.2 / (n * 0.95 + 1.2), right=0.99, bottom=0.01, top=0.8 if len(rows) < 3 else 0.86)
    show(fig)


def cfg_compare(models: dict, classifier=None, per_class: int = 1, steps: int = 10, seed: int = 0,
                classes=range(10), w: float = 3.0, w_max: float = 8.0, precompute: bool = False):
    """Slide w: every model in ``models`` ({name: DiffusionModel}, pixel or latent) regenerates ``per_class``
    images of each class from the same noise (DDIM-``steps`` on ``model.given(y, w)``). Results are cached per w; with ``classifier``,
    each row says how many images the independent classifier recognises as the requested class.

    precompute: sample every position of the slider when the widget is built (one w at a time: memory stays that
    of one move), so that no move waits for sampling — three models sampling at once kept a new w waiting 0.9–1.3 s
    on a CPU thread at the fast size (benchmarks/README.md, lesson 09 in the browser). Not while the course site is
    built: its copy samples the few positions it shows."""
    labels = torch.tensor([c for c in classes for _ in range(per_class)])
    noise = {name: torch.randn(len(labels), *m.sample_shape, generator=torch.Generator().manual_seed(seed))
             for name, m in models.items()}  # the same noise wherever two models sample the same shape

    def sampled(w):
        rows = []
        for name, model in models.items():
            images = sample_images(model, labels, w, steps, x_T=noise[name])
            note = ""
            if classifier is not None:
                preds, _ = metrics.classifier_outputs(classifier, images)
                note = f"{int((preds == labels).sum())}/{len(labels)} recognised"
            rows.append((name, images, note))
        return rows

    def draw(w):
        draw_rows(compute(w), labels, f"classifier-free guidance, w = {w:g}  (DDIM, {steps} steps, same noise)")

    slider = W.FloatSlider(value=w, min=0.0, max=w_max, step=0.5, description="w", continuous_update=False)
    compute = per_position(sampled, slider if precompute else None)
    box = live(draw, {"w": slider}, header=slider, busy_text="sampling…")
    box.controls, box.compute = {"w": slider}, compute
    return box


@torch.no_grad()
def attention_maps(model, x0: torch.Tensor, y: torch.Tensor, t: int, noise: torch.Tensor) -> tuple:
    """x_t = α_t x₀ + σ_t ε for one image (3, H, W) and the attention weights of every block of the DiT
    ``model.net`` on it: (x_t, maps of shape (depth, heads, N, N), rows = queries, each row summing to 1)."""
    dev = model.device
    x0, noise = x0[None].to(dev), noise[None].to(dev)
    tt = model.process.time_tensor(t, 1, dev)
    xt = model.process.q_sample(x0, tt, noise)
    _, maps = model.net(xt, model.process.net_time(tt), y.reshape(1).to(dev), attention_maps=True)
    return xt[0].cpu(), torch.stack([m[0] for m in maps]).float().cpu()


def mean_attention_distance(maps: torch.Tensor, patch_size: int) -> torch.Tensor:
    """Σ_k a_qk ‖pos_q − pos_k‖ averaged over the queries q, in pixels, for attention weights (…, N, N) over a
    square grid of patches: e.g. (depth, heads) from (depth, heads, N, N). Small: the head looks at its
    neighbourhood; large: across the image."""
    n = maps.shape[-1]
    g = int(round(n ** 0.5))
    rc = torch.stack(torch.meshgrid(torch.arange(g), torch.arange(g), indexing="ij"), -1).reshape(n, 2).float()
    dist = torch.cdist(rc, rc) * patch_size
    return (maps * dist).sum(-1).mean(-1)


def draw_attention(x0, xt, maps, block: int, head, row: int, col: int, patch_size: int, label: str = ""):
    use_style()
    g = int(round(maps.shape[-1] ** 0.5))
    q = row * g + col
    a = maps[block, :, q].mean(0) if head == "mean" else maps[block, int(head), q]
    a = a.reshape(g, g).numpy()
    H = x0.shape[-1]
    fig, axes = plt.subplots(1, 3, figsize=(10.5, 3.6), gridspec_kw={"width_ratios": [1, 1, 1.2]})
    box = dict(xy=(col * patch_size - 0.5, row * patch_size - 0.5), width=patch_size, height=patch_size,
               fill=False, ec="red", lw=2)
    axes[0].imshow(to_image(xt), interpolation="nearest")
    axes[0].add_patch(plt.Rectangle(**box))
    axes[0].set_title("x_t (what the network sees)", fontsize=9)
    light = np.kron(a / a.max(), np.ones((patch_size, patch_size)))[..., None]   # 1 at the most-attended patch
    axes[1].imshow(to_image(x0) * (0.12 + 0.88 * light), interpolation="nearest")
    axes[1].add_patch(plt.Rectangle(**box))
    axes[1].set_title("the clean image, lit by the attention", fontsize=9)
    im = axes[2].imshow(a, cmap="magma", vmin=0, extent=(-0.5, g - 0.5, g - 0.5, -0.5))
    axes[2].add_patch(plt.Rectangle((col - 0.5, row - 0.5), 1, 1, fill=False, ec="cyan", lw=2))
    axes[2].set_title(f"weights of query patch ({row}, {col}); uniform = {1 / g**2:.4f}", fontsize=9)
    fig.colorbar(im, ax=axes[2], fraction=0.046)
    for ax in axes:
        ax.set_xticks([]); ax.set_yticks([]); ax.grid(False)
    fig.suptitle(f"{label}block {block + 1}, " + ("mean of the heads" if head == "mean" else f"head {head}"),
                 fontsize=10)
    fig.subplots_adjust(left=0.01, right=0.93, bottom=0.03, top=0.84, wspace=0.08)
    show(fig)


def attention_explorer(model, images: torch.Tensor, labels: torch.Tensor, ts=(50, 200, 400, 600, 800),
                       seed: int = 0, class_names=CLASSES):
    """Pick an image, a noise level t, a block and a head, and move the query patch (row, column): where does
    that patch's token look? The forward pass is cached per (image, t); moving the query only redraws."""
    net = model.net
    p, depth, heads = net.config["patch_size"], net.config["depth"], net.config["heads"]
    g = net.config["image_size"] // p
    noise = torch.randn(images.shape, generator=torch.Generator().manual_seed(seed))

    @lru_cache(maxsize=16)
    def compute(i, t):
        return attention_maps(model, images[i], labels[i], t, noise[i])

    names = [(f"{class_names[int(labels[i])]} ({i})", i) for i in range(len(images))]
    c = dict(i=W.Dropdown(options=names, value=0, description="image"),
             t=W.SelectionSlider(options=list(ts), value=ts[len(ts) // 2], description="t", continuous_update=False),
             block=W.Dropdown(options=[(str(b + 1), b) for b in range(depth)], value=depth - 1, description="block"),
             head=W.Dropdown(options=["mean"] + list(range(heads)), value="mean", description="head"),
             row=W.IntSlider(value=g // 2, min=0, max=g - 1, description="query row", continuous_update=False),
             col=W.IntSlider(value=g // 2, min=0, max=g - 1, description="query col", continuous_update=False))
    for k in ("i", "block", "head"):
        c[k].layout = W.Layout(width="190px")

    def draw(i, t, block, head, row, col):
        xt, maps = compute(i, t)
        draw_attention(images[i], xt, maps, block, head, row, col, p, label=f"t = {t}, ")

    header = W.VBox([W.HBox([c["i"], c["block"], c["head"]]), W.HBox([c["t"], c["row"], c["col"]])])
    box = live(draw, c, header=header, busy_text="computing…")
    box.controls, box.compute = c, compute
    return box


@torch.no_grad()
def unet_shapes(net, x: torch.Tensor, t: torch.Tensor, y: torch.Tensor | None = None) -> list:
    """Run a ``UNet`` once and list its stages in forward order: (name, kind, output shape, skip), kind one of
    "conv", "res", "attn", "down", "up", "out"; skip says which earlier stage's output an up-block concatenates."""
    from torch import nn

    stages, skips = [], []

    def add(name, kind):
        def hook(m, i, o):
            stages.append([name, kind, tuple(o.shape), None])
        return hook

    hooks = [net.inp.register_forward_hook(add("inp", "conv"))]
    pushes = ["inp"]
    for k, layer in enumerate(net.down):
        if isinstance(layer, nn.ModuleList):
            hooks.append(layer[0].register_forward_hook(add(f"down.{k}.0", "res")))
            last = f"down.{k}.0"
            if not isinstance(layer[1], nn.Identity):
                hooks.append(layer[1].register_forward_hook(add(f"down.{k}.1", "attn")))
                last = f"down.{k}.1"
        else:
            hooks.append(layer.register_forward_hook(add(f"down.{k}", "down")))
            last = f"down.{k}"
        pushes.append(last)
    for k, kind in enumerate(("res", "attn", "res")):
        hooks.append(net.mid[k].register_forward_hook(add(f"mid.{k}", kind)))
    for k, layer in enumerate(net.up):
        if isinstance(layer, nn.ModuleList):
            skips.append((f"up.{k}.0", pushes.pop()))
            hooks.append(layer[0].register_forward_hook(add(f"up.{k}.0", "res")))
            if not isinstance(layer[1], nn.Identity):
                hooks.append(layer[1].register_forward_hook(add(f"up.{k}.1", "attn")))
        else:
            hooks.append(layer.register_forward_hook(add(f"up.{k}", "up")))
    hooks.append(net.out.register_forward_hook(add("out", "out")))
    try:
        net.eval()(x, t, y)
    finally:
        for h in hooks:
            h.remove()
    skip_of = dict(skips)
    for s in stages:
        s[3] = skip_of.get(s[0])
    return [tuple(s) for s in stages]


def draw_unet(stages: list, title: str = ""):
    """The U-Net as a U: one box per stage in forward order, lower = coarser resolution, labelled with its
    channels × resolution; attention boxes highlighted; dashed arcs for the skip connections."""
    use_style()
    colors = {"conv": "#bbbbbb", "res": "#4c78a8", "attn": "#f58518", "down": "#54a24b", "up": "#54a24b",
              "out": "#bbbbbb"}
    full = stages[0][2][-1]
    fig, ax = plt.subplots(figsize=(11, 3.9))
    pos = {}
    for i, (name, kind, shape, _) in enumerate(stages):
        level = int(round(np.log2(full / shape[-1])))
        x, y = i, -level * 1.2
        pos[name] = (x, y)
        ax.add_patch(plt.Rectangle((x - 0.4, y - 0.32), 0.8, 0.64, color=colors[kind], alpha=0.9))
        ax.text(x, y + 0.06, f"{shape[1]}", ha="center", va="center", fontsize=7.5, color="white"
                if kind in ("res", "attn", "down", "up") else "black", fontweight="bold")
        ax.text(x, y - 0.17, f"{shape[-2]}²", ha="center", va="center", fontsize=6.5, color="white"
                if kind in ("res", "attn", "down", "up") else "black")
        if i:
            ax.annotate("", (x - 0.4, y), (pos[stages[i - 1][0]][0] + 0.4, pos[stages[i - 1][0]][1]),
                        arrowprops=dict(arrowstyle="->", lw=0.8, color="k"))
    for name, _, _, skip in stages:
        if skip:
            (x0, y0), (x1, y1) = pos[skip], pos[name]
            ax.annotate("", (x1, y1 + 0.32), (x0, y0 + 0.32), arrowprops=dict(
                arrowstyle="->", lw=0.8, color="#888888", ls="--", connectionstyle="arc3,rad=-0.25"))
    for kind, label in (("res", "ResBlock (+ t, y embedding)"), ("attn", "self-attention"),
                        ("down", "down/upsample"), ("conv", "conv in / out")):
        ax.bar(0, 0, color=colors[kind], label=label)
    ax.legend(loc="lower left", fontsize=8, ncol=4, frameon=False, bbox_to_anchor=(0, -0.16))
    ax.set_xlim(-0.8, len(stages) - 0.2)
    ys = [p[1] for p in pos.values()]
    ax.set_ylim(min(ys) - 0.6, max(ys) + 1.5)
    ax.set_xticks([]); ax.set_yticks(sorted(set(ys)))
    ax.set_yticklabels([f"{full // 2 ** int(round(-y / 1.2))}×{full // 2 ** int(round(-y / 1.2))}"
                        for y in sorted(set(ys))])
    ax.grid(False)
    for s in ax.spines.values():
        s.set_visible(False)
    ax.set_title(title or "the U-Net: boxes show channels and resolution; dashed arcs are the skip connections",
                 fontsize=10)
    fig.subplots_adjust(left=0.06, right=0.99, bottom=0.14, top=0.9)
    show(fig)
