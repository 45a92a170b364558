"""How every shipped checkpoint was trained — one recipe per checkpoint, one command to reproduce it.

    python -m diffedu.recipes ring8-mlp                      # writes ~/.cache/diffedu/checkpoints/ring8-mlp.safetensors
    python -m diffedu.recipes mnist-unet --state run.state    # resumable: rerun the same command after a crash
    python -m diffedu.recipes --list

One file per family holds its recipes (``toy``, ``mnist``; the later lessons add theirs) and a ``setup``
that builds the network, batches and loss; this file runs any of them the same way: the seed is set before
the network is built (two runs give bit-identical weights), ``state`` resumes exactly, ``init_from``
continues from saved weights with a fresh optimiser. The command line lives in ``__main__``.
"""
from __future__ import annotations

import os
from pathlib import Path

import torch

from .. import checkpoint
from ..model import network
from ..pretrained import asset_path, shipped
from ..train import TrainResult, train
from ..train_state import load_training, save_training
from . import adapt, cifar, distill, latent, mnist, text, toy
from . import video
from . import audio

FAMILIES = {"toy": toy, "mnist": mnist, "cifar": cifar, "latent": latent, "text": text, "adapt": adapt,
            "distill": distill}
RECIPES = {**toy.RECIPES, **mnist.RECIPES, **cifar.RECIPES, **latent.RECIPES, **text.RECIPES, **adapt.RECIPES,
           **distill.RECIPES}
FAMILIES["video"] = video
RECIPES.update(video.RECIPES)
FAMILIES["audio"] = audio
RECIPES.update(audio.RECIPES)


def default_out(name: str) -> Path:
    """Where a retrained checkpoint goes unless told otherwise: never over the shipped one."""
    home = os.environ.get("DIFFEDU_HOME") or Path.home() / ".cache" / "diffedu"
    return Path(home) / "checkpoints" / f"{name}.safetensors"


def _recipe(name) -> dict:
    if not isinstance(name, str) or name not in RECIPES:
        raise ValueError(f"recipe must be one of {sorted(RECIPES)}, got {name!r}")
    return RECIPES[name]


def setup(name: str):
    """The recipe's ``Setup`` with the network freshly built from the recipe's seed."""
    r = _recipe(name)
    torch.manual_seed(r["seed"])
    return FAMILIES[r["family"]].setup(name, r)


def _init_path(init_from):
    return asset_path(init_from) if isinstance(init_from, str) and init_from in shipped() else init_from


RUN_KEYS = ("command", "steps_run", "precision", "lr_run", "seconds", "device", "final_loss")


def history(init_from, run: dict) -> list[dict]:
    """Every run that made a checkpoint, oldest first: ``init_from``'s history (a file from before histories were
    kept: one entry from its own metadata), then ``run`` (this run's metadata), each as its ``RUN_KEYS``. Stored
    in the checkpoint, so a model continued several times still names every command that trained it."""
    runs = []
    if init_from is not None:
        meta = checkpoint.read(_init_path(init_from))[0].get("meta") or {}
        runs = list(meta.get("history") or [{k: meta[k] for k in RUN_KEYS if k in meta}])
    return runs + [{k: run[k] for k in RUN_KEYS if k in run}]


def trained(meta: dict) -> dict:
    """What trained a checkpoint, every run together: {"runs", "steps", "seconds"} summed over its ``history``
    (or its one run, for a file without one). ``meta``: a model's or checkpoint's metadata."""
    runs = meta.get("history") or [meta]
    return {"runs": len(runs), "steps": sum(int(r.get("steps_run", r.get("steps", 0))) for r in runs),
            "seconds": sum(float(r.get("seconds", "nan")) for r in runs)}


def _init_result(name: str, s, init_from) -> TrainResult:
    """Start from saved weights (a shipped name or a checkpoint path) instead of from scratch."""
    loaded = checkpoint.load(_init_path(init_from))
    init = network(loaded)  # a model's network (a consistency model's: a model in a model)
    if type(init) is not type(s.net) or init.config != s.net.config:
        raise ValueError(f"init_from {init_from}: {type(init).__name__}({init.config}) is not the network of "
                         f"recipe {name!r}")
    return TrainResult(init.train(), init)  # train() starts its EMA from a copy of result.ema's weights


def train_recipe(name: str, steps: int | None = None, progress: bool = True, device: str | None = None, *,
                 state=None, checkpoint_every: int = 250, init_from=None, prepared=None, **overrides) -> TrainResult:
    """Train recipe ``name`` (``steps`` overrides its count) and return the ``TrainResult``.

    state:     a training-state file, written every ``checkpoint_every`` steps and at the end; if it exists the
               run resumes from it (it must come from the same recipe) and repeats the uninterrupted run exactly.
    init_from: start from these weights with a fresh AdamW and a new warm-up + cosine cycle (``lr=`` overrides).
    prepared:  ``setup(name)``, already made (the command line keeps it to save the result with).
    """
    r = _recipe(name)
    if not r.get("resumable", True) and (state is not None or init_from is not None):
        raise ValueError(f"recipe {name!r} trains in minutes from a shipped model and saves only what it trained: "
                         "run it without state/init_from")
    s = prepared if prepared is not None else setup(name)
    total = steps or r["steps"]
    result, start = None, 0
    if state is not None and checkpoint.path_of(state).exists():
        result, start = load_training(state, device=device or "cpu")
        got = result.model.meta.get("recipe")
        if got != name:
            raise ValueError(f"state {checkpoint.path_of(state)} belongs to recipe {got!r}, not {name!r}")
        planned = int(result.model.meta.get("steps_total", total))
        if total <= start:
            raise ValueError(f"state {checkpoint.path_of(state)} is already at step {start} >= steps={total}: "
                             f"nothing to do")
        if total != planned:
            raise ValueError(f"state {checkpoint.path_of(state)} belongs to a run of {planned} steps; resume it with "
                             f"steps={planned} (a different total would change its learning-rate schedule midway; "
                             f"to train on from its weights with a fresh schedule, use init_from)")
    elif init_from is not None:
        result = _init_result(name, s, init_from)
    on_step = None
    if state is not None:
        def on_step(step, res):  # train() calls it every checkpoint_every steps and after the last
            save_training(state, res, step, {"recipe": name, "steps_total": total})
    overrides.setdefault("lr", r["lr"])
    if "ema_decay" in r:
        overrides.setdefault("ema_decay", r["ema_decay"])
    return train(result.model if result is not None else s.net, s.loss, s.batches, steps=total, seed=r["seed"],
                 progress=progress, device=device, result=result, start_step=start, on_step=on_step,
                 on_step_every=checkpoint_every, **overrides)


def save_result(name: str, net: torch.nn.Module, path, meta: dict, s=None):
    """Write a trained network as the recipe's checkpoint (its process and prediction included)."""
    r = _recipe(name)
    s = s or setup(name)
    dtype = getattr(torch, r.get("save_dtype", "float32"))
    if s.save is not None:  # a fine-tune writes only what it trained (an adapter, a word) — or its own way
        return s.save(path, net, meta, dtype)
    if s.autoencoder is not None:  # a latent model: the checkpoint carries its autoencoder and κ
        from ..latent import LatentDiffusionModel

        net = LatentDiffusionModel(net, s.process, s.prediction, s.num_classes, autoencoder=s.autoencoder,
                                   scale=s.scale)
        return checkpoint.save(path, net, meta=meta, dtype=dtype)
    return checkpoint.save(path, net, process=s.process, prediction=s.prediction, num_classes=s.num_classes,
                           meta=meta, dtype=dtype)
