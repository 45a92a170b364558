"""What a recipe family hands the runner: a fresh network, its batches and loss, and how to read it."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

from ..processes import Process


@dataclass
class Setup:
    net: torch.nn.Module                 # built after the recipe's seed was set: the same initial weights every run
    batches: Callable                    # batches(generator) -> batch, as ``train`` takes
    loss: Callable                       # loss(net, batch, generator) -> scalar
    process: Process | None = None       # what a checkpoint stores with the weights (None: a clean classifier)
    prediction: str | None = None        # "eps", "score", … (None: not a diffusion model)
    num_classes: int | None = None
    autoencoder: torch.nn.Module | None = None  # a latent model's autoencoder (``diffedu.latent``)
    scale: float | None = None                  # and its latent scale factor κ
    save: Callable | None = None         # save(path, net, meta, dtype): what to write instead of the whole network
