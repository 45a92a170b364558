"""How every shipped checkpoint was trained — one recipe per checkpoint, one command to reproduce it.

    python -m diffedu.recipes ring8-mlp            # retrain and overwrite diffedu/assets/ring8-mlp.*
    python -m diffedu.recipes --list

A longer run can continue from saved weights instead of starting over: ``--init-from NAME_OR_PATH`` loads
them, starts a fresh AdamW with a new warm-up + cosine learning-rate cycle (``--lr``), and ``--out`` writes
the result elsewhere until it has been measured. The shipped ``mnist-unet`` was made that way, in five runs
on a CPU (one from scratch, four continuations); ``assets/MODEL_CARD.md`` gives every command.

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
from ._random import randint, randn
from .forward import q_sample
from .losses import diffusion_loss
from .models import MLPDenoiser
from .score import ScoreMLP, geometric_sigmas, ncsn_loss
from .train import COMPILE_MODES, TrainResult, tensor_batches, train

ASSETS = Path(__file__).parent / "assets"

RECIPES = {
    "ring8-mlp": dict(kind="ddpm", data="ring8", schedule="linear", T=1000, steps=12000, batch=512, lr=2e-3,
                      model=dict(hidden=128, depth=3, emb_dim=32), n_data=50000, seed=0),
    # Song & Ermon's multi-scale score network on the same data: σ from 3 down to 0.03 in 10 levels
    "ring8-ncsn": dict(kind="ncsn", data="ring8", sigma_max=3.0, sigma_min=0.03, levels=10, steps=10000,
                       batch=512, lr=2e-3, model=dict(hidden=128, depth=3, emb_dim=32), n_data=50000, seed=0),
    # class-conditional MNIST U-Net; labels dropped 10% of the time so it also learns p(x) (for CFG)
    "mnist-unet": dict(kind="ddpm-image", data="mnist", schedule="cosine", T=1000, steps=2500, batch=64, lr=1e-3,
                       ema_decay=0.999, p_uncond=0.1, model=dict(base_channels=32, channel_mults=(1, 2, 2),
                       num_res_blocks=1, attn_resolutions=(7,), num_classes=10, dropout=0.1), seed=0,
                       save_dtype="float16"),
    # an independent clean classifier, used only to measure samples (accuracy, Fréchet distance)
    "mnist-classifier": dict(kind="classifier", data="mnist", steps=1200, batch=128, lr=2e-3, ema_decay=0.999,
                             model=dict(width=32, features=128), seed=1, save_dtype="float32"),
    # f_φ(y | x_t, t) for classifier guidance, on the U-Net's schedule
    "mnist-noisy-classifier": dict(kind="noisy-classifier", data="mnist", schedule="cosine", T=1000, steps=1500,
                                   batch=128, lr=2e-3, ema_decay=0.999, model=dict(base_channels=32), seed=2,
                                   save_dtype="float32"),
}
IMAGE_KINDS = ("ddpm-image", "classifier", "noisy-classifier")


def recipe_sigmas(name: str) -> torch.Tensor:
    """The noise ladder a score recipe was trained on."""
    r = RECIPES[name]
    return geometric_sigmas(r["sigma_max"], r["sigma_min"], r["levels"])


def asset_path(name: str) -> Path:
    return ASSETS / name


def _toy_data(name: str, n: int, seed: int) -> torch.Tensor:
    return toy.sample(name, n, generator=torch.Generator().manual_seed(seed), seed=seed)


def recipe_schedule(name: str):
    r = RECIPES[name]
    return schedules.make(r["schedule"], r["T"])


def _shift(x: torch.Tensor, g: torch.Generator, max_px: int = 2) -> torch.Tensor:
    """Random translations by up to max_px pixels (zero-padded): the classifiers' only augmentation."""
    dx, dy = (int(v) for v in torch.randint(-max_px, max_px + 1, (2,), generator=g))
    return torch.roll(torch.nn.functional.pad(x, [max_px] * 4, value=-1.0), (dy, dx), (2, 3))[
        ..., max_px:-max_px, max_px:-max_px]


def _train_image(name: str, steps, progress, device, resume_from=None, checkpoint_every: int = 0,
                 init_from=None, **overrides):
    from torch.nn.functional import cross_entropy

    from .datasets import mnist
    from .models import DigitClassifier, NoisyClassifier, UNet

    r = RECIPES[name]
    x, y = mnist.load("train")
    if r["kind"] == "ddpm-image":
        sched = recipe_schedule(name)
        n_cls = r["model"]["num_classes"]
        build = lambda: UNet(**r["model"])  # noqa: E731

        def loss_fn(m, batch, g):
            xb, yb = batch
            drop = (torch.rand(yb.shape[0], generator=g) < r["p_uncond"]).to(yb.device)
            return diffusion_loss(m, xb, sched, generator=g, y=torch.where(drop, n_cls, yb))
    elif r["kind"] == "classifier":
        build = lambda: DigitClassifier(**r["model"])  # noqa: E731

        def loss_fn(m, batch, g):
            xb, yb = batch
            return cross_entropy(m(_shift(xb, g)), yb)
    else:  # noisy classifier
        sched = recipe_schedule(name)
        build = lambda: NoisyClassifier(**r["model"])  # noqa: E731

        def loss_fn(m, batch, g):
            xb, yb = batch
            t = randint(1, sched.T + 1, (xb.shape[0],), xb, g)
            eps = randn(xb.shape, xb, g)
            return cross_entropy(m(q_sample(_shift(xb, g), t, sched, noise=eps), t), yb)

    result, start = (None, 0)
    if resume_from is not None and Path(resume_from).with_suffix(".json").exists():
        result, start = checkpoint.load_training(resume_from, device=device or "cpu")
    elif init_from is not None:  # continue from saved weights (e.g. the shipped ones) with a fresh optimiser
        init, want = checkpoint.load(asset_path(init_from) if init_from in RECIPES else init_from), build()
        if type(init) is not type(want) or init.config != want.config:
            raise ValueError(f"--init-from {init_from}: {type(init).__name__}({init.config}) is not the network "
                             f"of recipe {name!r}")
        result = TrainResult(init.train(), init)  # train() starts its EMA from a copy of result.ema's weights
    model = result.model if result is not None else build()
    total = steps or r["steps"]
    on_step = None
    if checkpoint_every and resume_from is not None:
        def on_step(step, res):  # train() calls it every checkpoint_every steps and after the last
            checkpoint.save_training(resume_from, res, step, {"recipe": name})
    overrides.setdefault("lr", r["lr"])
    return train(model, loss_fn, tensor_batches(x, r["batch"], y), steps=total,
                 ema_decay=r["ema_decay"], seed=r["seed"], progress=progress, device=device, result=result,
                 start_step=start, on_step=on_step, on_step_every=checkpoint_every or 1, **overrides)


def train_recipe(name: str, steps: int | None = None, progress: bool = True, device: str | None = None, **kw):
    """Train the recipe's network from scratch (``steps`` overrides the recipe's count)."""
    if name not in RECIPES:
        raise ValueError(f"recipe must be one of {sorted(RECIPES)}, got {name!r}")
    r = RECIPES[name]
    if r["kind"] in IMAGE_KINDS:
        return _train_image(name, steps, progress, device, **kw)
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


@torch.no_grad()
def classifier_accuracy(model, name: str, t: int | None = None, n: int | None = None) -> float:
    """Test-set accuracy (first n test images) of a clean classifier, or of a noisy one at timestep t."""
    from .datasets import mnist

    x, y = mnist.load("test")
    x, y = x[:n], y[:n]
    dev = next(model.parameters()).device
    model.eval()
    correct = 0
    for i in range(0, len(x), 1000):
        xb, yb = x[i:i + 1000].to(dev), y[i:i + 1000].to(dev)
        if RECIPES[name]["kind"] == "noisy-classifier":
            tt = torch.full((len(xb),), t or 1, device=dev)
            xb = q_sample(xb, tt, recipe_schedule(name), generator=torch.Generator().manual_seed(i))
            logits = model(xb, tt)
        else:
            logits = model(xb)
        correct += int((logits.argmax(1) == yb).sum())
    return correct / len(x)


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
    p.add_argument("--device", default=None, help="cuda, mps or cpu (default: the best available)")
    p.add_argument("--state", default=None, help="image recipes: resumable training state to write/resume")
    p.add_argument("--checkpoint-every", type=int, default=250)
    p.add_argument("--bf16", action="store_true", help="bf16 autocast and channels_last (GPU)")
    p.add_argument("--compile", default=None, choices=COMPILE_MODES,
                   help="image recipes: torch.compile mode of the training step (reduce-overhead: CUDA graphs)")
    p.add_argument("--init-from", default=None,
                   help="image recipes: start from these weights (a shipped name or a checkpoint path) with a fresh "
                        "optimiser and a new warm-up + cosine learning-rate cycle, instead of from scratch")
    p.add_argument("--lr", type=float, default=None, help="peak learning rate (default: the recipe's)")
    p.add_argument("--out", default=None, help="where to write the checkpoint (default: the shipped one in assets/)")
    a = p.parse_args(argv)
    if a.list or not a.name:
        for k, v in RECIPES.items():
            print(k, v)
        return
    t0 = time.time()
    kw = {}
    if RECIPES[a.name]["kind"] in IMAGE_KINDS:
        kw = dict(resume_from=a.state, checkpoint_every=a.checkpoint_every, init_from=a.init_from)
        if a.lr is not None:
            kw["lr"] = a.lr
        if a.bf16:
            kw.update(amp_dtype=torch.bfloat16, channels_last=True)
        if a.compile:
            kw["compile_mode"] = a.compile
    res = train_recipe(a.name, a.steps, progress=sys.stderr.isatty(), device=a.device, **kw)
    meta = {"recipe": a.name, **{k: str(v) for k, v in RECIPES[a.name].items()}, "steps_run": len(res.losses),
            **({"init_from": a.init_from} if a.init_from else {}), **({"lr_run": a.lr} if a.lr else {}),
            "seconds": round(time.time() - t0, 1), "device": res.device, "torch": torch.__version__,
            "machine": platform.processor() or platform.machine(),
            "final_loss": sum(res.losses[-200:]) / len(res.losses[-200:])}
    if RECIPES[a.name]["kind"] in ("classifier", "noisy-classifier"):
        meta["test_accuracy"] = classifier_accuracy(res.ema, a.name)
    dtype = getattr(torch, RECIPES[a.name].get("save_dtype", "float32"))
    print(checkpoint.save(a.out or asset_path(a.name), res.ema, meta=meta, dtype=dtype), meta)


if __name__ == "__main__":
    main()
