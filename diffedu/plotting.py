"""One look for every figure in the course: colours, 2-D scatter and density helpers (matplotlib)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch

DATA = "#1f77b4"      # data / truth
MODEL = "#d62728"     # model / samples
NOISE = "#7f7f7f"     # the Gaussian prior
ACCENT = "#2ca02c"
SCHEDULE_COLORS = {"linear": "#1f77b4", "cosine": "#ff7f0e", "sigmoid": "#2ca02c", "custom": "#9467bd"}

STYLE = {
    "figure.dpi": 90, "axes.spines.top": False, "axes.spines.right": False, "axes.grid": True,
    "grid.alpha": 0.25, "axes.titlesize": 11, "axes.labelsize": 10, "legend.frameon": False,
    "font.size": 10,
}


def use_style() -> None:
    plt.rcParams.update(STYLE)


def to_np(x) -> np.ndarray:
    return x.detach().cpu().numpy() if torch.is_tensor(x) else np.asarray(x)


def scatter(ax, x, color=MODEL, label=None, s=4, alpha=0.5, lim=3.5):
    x = to_np(x)
    ax.scatter(x[:, 0], x[:, 1], s=s, c=color, alpha=alpha, lw=0, label=label)
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")


def density_grid(mixture, a=1.0, b=0.0, lim=3.5, n=120):
    """(axis (n,), p (n, n)): an exact mixture density at noise level x = a·x_0 + b·ε on an n × n grid over
    [−lim, lim]², p[row = y, column = x] (as contour and heatmap functions take it), float64."""
    xs = torch.linspace(-lim, lim, n, dtype=torch.float64)
    return xs.numpy(), mixture.log_prob(torch.cartesian_prod(xs, xs), a, b).exp().reshape(n, n).T.numpy()


def density_contour(ax, mixture, a=1.0, b=0.0, lim=3.5, n=120, color=DATA, levels=6):
    """Contours of an exact mixture density at noise level x = a·x_0 + b·ε."""
    xs, p = density_grid(mixture, a, b, lim, n)
    ax.contour(xs, xs, p, levels=levels, colors=color, linewidths=0.8, alpha=0.7)


def grid_points(lim=3.5, n=30, dtype=torch.float32):
    """An n × n grid over [−lim, lim]² as (n·n, 2) points, plus the 1-D axis."""
    xs = torch.linspace(-lim, lim, n, dtype=dtype)
    return torch.cartesian_prod(xs, xs), xs


def show(fig) -> None:
    """Display a finished figure once and free it (works inside ipywidgets.Output and in scripts)."""
    from IPython.display import display

    display(fig)
    plt.close(fig)


def markdown_table(header, rows, align=None) -> str:
    """A Markdown table: ``header`` a list of column names, ``rows`` lists of cells (formatted by the caller;
    None prints as —). ``align``: one of "l", "r" per column (default: the first left, the others right)."""
    header = [str(h) for h in header]
    align = align or "l" + "r" * (len(header) - 1)
    if len(align) != len(header) or any(len(r) != len(header) for r in rows):
        raise ValueError(f"every row and align need {len(header)} cells, one per column of {header}")
    cell = lambda v: "—" if v is None else str(v).replace("|", "\\|")  # noqa: E731
    lines = ["| " + " | ".join(cell(h) for h in header) + " |",
             "|" + "|".join(":---" if a == "l" else "---:" for a in align) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in r) + " |" for r in rows]
    return "\n".join(lines)


def table(header, rows, align=None) -> None:
    """Display a table as a table (Markdown: HTML in Jupyter, columns that never wrap inside a number; plain
    text elsewhere). Arguments as ``markdown_table``."""
    from IPython.display import Markdown, display

    display(Markdown(markdown_table(header, rows, align)))


GAP = 2  # pixels between the tiles of a mosaic


def mosaic(images, rows: int, cols: int, gap: int = GAP, fill: float = 1.0) -> np.ndarray:
    """Images (rows·cols, H, W) or (rows·cols, H, W, C), in row-major order, as one array with ``gap`` pixels of
    ``fill`` between the tiles: (rows·(H + gap) − gap, cols·(W + gap) − gap[, C]). Drawn with one ``imshow``, a
    grid redraws several times faster than with one axes per image (what the image-grid widgets need)."""
    images = np.asarray(images)
    if images.ndim not in (3, 4) or len(images) != rows * cols:
        raise ValueError(f"images must be {rows}·{cols} = {rows * cols} images (n, H, W[, C]), "
                         f"got shape {images.shape}")
    h, w = images.shape[1:3]
    out = np.full((rows * (h + gap) - gap, cols * (w + gap) - gap) + images.shape[3:], fill, dtype=images.dtype)
    for k, im in enumerate(images):
        r, c = divmod(k, cols)
        out[r * (h + gap): r * (h + gap) + h, c * (w + gap): c * (w + gap) + w] = im
    return out


def tile_centre(k: int, size: int, gap: int = GAP) -> float:
    """The data coordinate of the centre of tile k (a column or a row of ``size`` pixels) in a mosaic."""
    return k * (size + gap) + (size - 1) / 2


def show_mosaic(ax, images, rows: int, cols: int, col_labels=(), row_labels=(), gap: int = GAP, **imshow_kw):
    """``mosaic`` on ``ax``: no frame, the column labels above their columns and the row labels left of their
    rows (as tick labels, so they are measured and kept inside the figure like any other)."""
    m = mosaic(images, rows, cols, gap)
    h, w = np.asarray(images).shape[1:3]
    ax.imshow(m, interpolation="nearest", **imshow_kw)
    ax.grid(False)
    for s in ax.spines.values():
        s.set_visible(False)
    ax.xaxis.tick_top()
    ax.set_xticks([tile_centre(c, w, gap) for c in range(len(col_labels))], list(col_labels))
    ax.set_yticks([tile_centre(r, h, gap) for r in range(len(row_labels))], list(row_labels))
    ax.tick_params(length=0, pad=3)
    return m
