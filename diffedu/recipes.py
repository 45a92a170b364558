"""How every shipped checkpoint was trained — one recipe per checkpoint, one command to reproduce it.

    python -m diffedu.recipes ring8-mlp            # retrain and overwrite diffedu/assets/ring8-mlp.*
    python -m diffedu.recipes --list

Lessons call ``pretrained(name)`` to load the shipped result, and ``train_recipe(name, steps=...)`` to
run the same training themselves.
"""
from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import torch

from . import checkpoint, schedules, toy
from .losses import diffusion_loss
from .models import MLPDenoiser
from .score import ScoreMLP, geometric_sigmas, ncsn_loss
from .train import tensor_batches, train

ASSETS = Path(__file__).parent / "assets"

RECIPES = {
    "ring8-mlp": dict(kind="ddpm", data="ring8", schedule="linear", T=1000, steps=12000, batch=512, lr=2e-3,
                      model=dict(hidden=128, depth=3, emb_dim=32), n_data=50000, seed=0),
    # Song & Ermon's multi-scale score network on the same data: σ from 3 down to 0.03 in 10 levels
    "ring8-ncsn": dict(kind="ncsn", data="ring8", sigma_max=3.0, sigma_min=0.03, levels=10, steps=10000,
                       batch=512, lr=2e-3, model=dict(hidden=128, depth=3, emb_dim=32), n_data=50000, seed=0),
}


def recipe_sigmas(name: str) -> torch.Tensor:
    """The noise ladder a score recipe was trained on."""
    r = RECIPES[name]
    return geometric_sigmas(r["sigma_max"], r["sigma_min"], r["levels"])


def asset_path(name: str) -> Path:
    return ASSETS / name


def _toy_data(name: str, n: int, seed: int) -> torch.Tensor:
    return toy.sample(name, n, generator=torch.Generator().manual_seed(seed), seed=seed)


def train_recipe(name: str, steps: int | None = None, progress: bool = True, device: str | None = None):
    """Train the recipe's network from scratch (``steps`` overrides the recipe's count)."""
    if name not in RECIPES:
        raise ValueError(f"recipe must be one of {sorted(RECIPES)}, got {name!r}")
    r = RECIPES[name]
    data = _toy_data(r["data"], r["n_data"], r["seed"])
    if r["kind"] == "ddpm":
        sched = schedules.make(r["schedule"], r["T"])
        model = MLPDenoiser(**r["model"])

        def loss_fn(m, batch, g):
            return diffusion_loss(m, batch, sched, generator=g)
    elif r["kind"] == "ncsn":
        sigmas = recipe_sigmas(name)
        model = ScoreMLP(**r["model"])

        def loss_fn(m, batch, g):
            return ncsn_loss(m, batch, sigmas, generator=g)
    else:
        raise ValueError(f"unknown recipe kind {r['kind']!r}")
    return train(model, loss_fn, tensor_batches(data, r["batch"]), steps=steps or r["steps"], lr=r["lr"],
                 seed=r["seed"], progress=progress, device=device)


def pretrained(name: str, device: str | torch.device = "cpu"):
    """The shipped network for ``name`` (its EMA weights), ready for sampling."""
    path = asset_path(name)
    if not path.with_suffix(".safetensors").exists():
        raise FileNotFoundError(f"no shipped checkpoint {name!r} in {ASSETS}; train it with "
                                f"`python -m diffedu.recipes {name}`")
    return checkpoint.load(path, device=device)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("name", nargs="?", choices=sorted(RECIPES))
    p.add_argument("--steps", type=int, default=None)
    p.add_argument("--list", action="store_true")
    a = p.parse_args(argv)
    if a.list or not a.name:
        for k, v in RECIPES.items():
            print(k, v)
        return
    t0 = time.time()
    res = train_recipe(a.name, a.steps, progress=sys.stderr.isatty())
    meta = {"recipe": a.name, **{k: str(v) for k, v in RECIPES[a.name].items()}, "steps_run": len(res.losses),
            "seconds": round(time.time() - t0, 1), "device": res.device, "torch": torch.__version__,
            "machine": platform.processor() or platform.machine(), "final_loss": sum(res.losses[-200:]) / 200}
    print(checkpoint.save(asset_path(a.name), res.ema, meta=meta), meta)


if __name__ == "__main__":
    main()
