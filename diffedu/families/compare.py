"""Lesson 00's measurements: training snapshots (for ``widgets.families_training``) and the table's columns."""
from __future__ import annotations

import time

import numpy as np
import torch

from .._checks import check_callable, check_int, check_real
from ..metrics import sliced_wasserstein


class Snapshots:
    """An ``on_step`` callback for ``diffedu.train`` and ``train_gan``: n samples of ``result.ema`` per call.

    sample(model, n, generator) draws from a model; every snapshot uses the same seed, so from one snapshot
    to the next the points move with the model rather than with the noise. ``record(0, model)`` adds the
    untrained model; ``losses`` is the training loss so far (the last call's copy).
    """

    def __init__(self, sample, n: int = 1000, seed: int = 0):
        check_callable("sample", sample, "a function (model, n, generator) -> points")
        self.sample, self.n, self.seed = sample, check_int("n", n, low=1), check_int("seed", seed)
        self.steps: list[int] = []
        self.frames: list[np.ndarray] = []
        self.losses: list[float] = []

    @torch.no_grad()
    def record(self, step: int, model, losses=()) -> None:
        was_training = model.training
        model.eval()
        x = self.sample(model, self.n, torch.Generator().manual_seed(self.seed))
        model.train(was_training)
        self.steps.append(int(step))
        self.frames.append(x.detach().float().cpu().numpy())
        self.losses = [float(v) for v in losses]

    def __call__(self, step: int, result) -> None:
        self.record(step, result.ema, result.losses)


def ms_per_1000(sample, repeats: int = 3, seed: int = 0) -> float:
    """Wall-clock milliseconds for ``sample(1000, generator)``, the best of ``repeats`` runs (after a warm-up)."""
    check_callable("sample", sample, "a function (n, generator) -> points")
    repeats, seed = check_int("repeats", repeats, low=1), check_int("seed", seed)
    sample(10, torch.Generator().manual_seed(seed))
    best = float("inf")
    for r in range(repeats):
        g = torch.Generator().manual_seed(seed + r)
        t0 = time.perf_counter()
        x = sample(1000, g)
        if torch.is_tensor(x) and x.is_cuda:
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t0)
    return 1000 * best


def mode_coverage(mixture, x: torch.Tensor, radius: float = 3.0) -> dict:
    """How a sample set shares its mass among a mixture's modes.

    fractions  the share of points nearest to each mode (by posterior), to compare with the weights
    covered    how many modes hold at least a quarter of their weight
    tv         total variation ½ Σ_k |fraction_k − weight_k| (0: every mode gets exactly its share)
    off        the share of points farther than ``radius`` standard deviations from every mode's centre
    """
    radius = check_real("radius", radius, low=0, low_open=True)
    x = x.detach().cpu().double()
    f = mixture.mode_fractions(x)
    w = mixture.weights.numpy()
    d = torch.cdist(x, mixture.means) / mixture.stds[None]
    return dict(fractions=f, covered=int((f >= 0.25 * w).sum()), tv=float(0.5 * np.abs(f - w).sum()),
                off=float((d.min(1).values > radius).double().mean()))


def quality(x: torch.Tensor, reference: torch.Tensor, floor: float) -> float:
    """Sliced Wasserstein distance to a fresh true sample, divided by the sampling-noise floor (1 = perfect)."""
    floor = check_real("floor", floor, low=0, low_open=True)
    return sliced_wasserstein(x, reference) / floor


def markdown_table(rows: list[dict], columns: list[tuple[str, str, str]]) -> str:
    """A Markdown table: columns are (key, header, format); a missing or None value prints as —."""
    head = "| " + " | ".join(h for _, h, _ in columns) + " |\n|" + "---|" * len(columns) + "\n"
    body = ""
    for r in rows:
        cells = [("—" if r.get(k) is None else (fmt.format(r[k]) if fmt else str(r[k]))) for k, _, fmt in columns]
        body += "| " + " | ".join(cells) + " |\n"
    return head + body
