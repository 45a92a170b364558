"""The MNIST targets of the image lessons, measured on the shipped checkpoints.

    .venv/bin/python benchmarks/mnist.py                     # all parts below, sizes as the issue asks
    .venv/bin/python benchmarks/mnist.py --part compare      # one part: target | sweep | compare
    .venv/bin/python benchmarks/mnist.py --throughput        # GPU: U-Net training img/s, several setups

Targets: the clean classifier ≥ 99 % on the test set; CFG w = 3 with DDIM-50 → ≥ 98 % conditional accuracy
over 1,000 samples; DDIM-50 within 10 % of DDPM-1000 on the Fréchet distance in the clean classifier's
features (1,000 samples each, same starting noise, w = 1), followed by variants that show where a gap comes
from: DDIM-50 with η = 1 and 0.5, DDIM-100, DDIM-50 without clipping x̂₀. Plus the sweep over w.

Samples are drawn in chunks of ``--chunk`` and kept as .npy files under ``--keep`` (default
~/.cache/diffedu/bench), in a folder named after the U-Net checkpoint's content hash: an interrupted run
resumes where it stopped, a finished one only re-scores, and a new checkpoint never reuses old samples.
``--unet PATH`` scores a candidate checkpoint instead of the shipped one; ``--samplers`` picks the
comparison's rows, the first being the reference of the ratios (DDPM-1000 by default; a quick screen of a
new checkpoint: ``--samplers ddim-eta1,ddim``, since DDIM-50 with η = 1 scored 0.99 × DDPM-1000).
On a 2-core CPU DDPM-1000 × 1,000 digits takes ~40 min alone (one network pass per step at w = 1).
"""
import argparse
import hashlib
import os
import time
from pathlib import Path

import numpy as np
import torch

import diffedu as de
from diffedu import metrics
from diffedu.datasets import mnist
from diffedu.guidance import cfg_eps_fn
from diffedu.recipes import RECIPES, asset_path, classifier_accuracy, pretrained, recipe_schedule
from diffedu.samplers import ddim_sample, ddim_timesteps, ddpm_sample

p = argparse.ArgumentParser()
p.add_argument("--part", choices=("all", "target", "sweep", "compare"), default="all")
p.add_argument("--n", type=int, default=1000, help="samples for the w = 3 target and the DDIM/DDPM comparison")
p.add_argument("--n-sweep", type=int, default=200, help="samples per w in the sweep")
p.add_argument("--chunk", type=int, default=100)
p.add_argument("--keep", default=os.path.join(os.path.expanduser("~"), ".cache", "diffedu", "bench"))
p.add_argument("--device", default=None)
p.add_argument("--throughput", action="store_true")
p.add_argument("--unet", default=None, help="a U-Net checkpoint path to score (default: the shipped mnist-unet)")
p.add_argument("--samplers", default="ddpm,ddim,ddim-eta1,ddim100,ddim-noclip,ddim-eta0.5,ddim-from980",
               help="comparison rows, comma-separated keys of SAMPLERS; ratios are to the first")
a = p.parse_args()
dev = de.pick_device(a.device)


def _ddim(steps=50, clip_x0=1.0, **kw):
    return lambda e, x, sc, g: ddim_sample(e, x, sc, steps=steps, clip_x0=clip_x0, generator=g, **kw)


SAMPLERS = {  # file key: (label, run(eps_fn, x_T, sched, generator))
    "ddim": ("DDIM-50", _ddim()),
    "ddim-eta0.5": ("DDIM-50, η = 0.5", _ddim(eta=0.5)),
    "ddim-eta1": ("DDIM-50, η = 1", _ddim(eta=1.0)),
    "ddim100": ("DDIM-100", _ddim(100)),
    "ddim-noclip": ("DDIM-50, no clip", _ddim(clip_x0=None)),
    # the cosine schedule's ᾱ_T ≈ 2e-9: at t = T an ε-prediction says nothing about x_0 (Lin et al. 2024)
    "ddim-from980": ("DDIM-49 from 980", _ddim(timesteps=ddim_timesteps(RECIPES["mnist-unet"]["T"], 50)[1:])),
    "ddpm": ("DDPM-1000", lambda e, x, sc, g: ddpm_sample(e, x, sc, clip_x0=1.0, generator=g)),
}


# samples are kept per checkpoint: the first 12 hex digits of the weights file's sha256
_weights = Path(a.unet or asset_path("mnist-unet")).with_suffix(".safetensors")
UNET_ID = "unet-" + hashlib.sha256(_weights.read_bytes()).hexdigest()[:12]


def samples(unet, sched, n, w, sampler, seed=0):
    """n digits (labels 0..9 in turn) as a (n, 1, 28, 28) float tensor; chunk k starts from noise seeded (seed, k),
    so every sampler run with the same seed starts from the same x_T. Returns (images, labels, seconds)."""
    if n % a.chunk or a.chunk % 10:
        raise SystemExit("--n must be a multiple of --chunk, and --chunk a multiple of 10")
    keep = Path(a.keep) / UNET_ID
    keep.mkdir(parents=True, exist_ok=True)
    out, sec = [], 0.0
    for k in range(n // a.chunk):
        f = keep / f"{sampler}_w{w:g}_seed{seed}_chunk{a.chunk}_{k}.npy"
        if not f.exists():
            labels = torch.arange(10).repeat(a.chunk // 10).to(dev)
            g = torch.Generator().manual_seed(seed * 100_003 + k)
            x_T = torch.randn(a.chunk, 1, 28, 28, generator=g).to(dev)
            t0 = time.perf_counter()
            with torch.inference_mode():
                x = SAMPLERS[sampler][1](cfg_eps_fn(unet, labels, w), x_T, sched, g)
            sec += time.perf_counter() - t0
            np.save(f.with_suffix(".tmp.npy"), x.cpu().numpy())
            os.replace(f.with_suffix(".tmp.npy"), f)
            print(f"  {f.name}: {sec:.0f} s so far", flush=True)
        out.append(torch.from_numpy(np.load(f)))
    return torch.cat(out), torch.arange(10).repeat(n // 10), sec


def score(clf, real, x, labels):
    preds, feats = metrics.classifier_outputs(clf, x)
    return (float((preds == labels).double().mean()), metrics.frechet_distance(feats, real),
            metrics.feature_diversity(feats, labels))


def floor(clf, real, n, reps=5):
    """Fréchet distance between `real` and `reps` disjoint sets of n *training* digits: what a perfect sampler
    would score at this n (the statistic's bias), with its spread."""
    x_train, _ = mnist.load("train")
    fds = [metrics.frechet_distance(metrics.classifier_outputs(clf, x_train[i * n:(i + 1) * n])[1], real)
           for i in range(reps)]
    return float(np.mean(fds)), float(np.std(fds))


def quality():
    unet = de.checkpoint.load(a.unet, dev) if a.unet else pretrained("mnist-unet", dev)
    clf = pretrained("mnist-classifier", dev)
    sched = recipe_schedule("mnist-unet")
    x_test, _ = mnist.load("test")
    _, real = metrics.classifier_outputs(clf, x_test)  # the reference: all 10,000 test digits
    if a.part in ("all", "target"):
        print(f"clean classifier test accuracy: {classifier_accuracy(clf, 'mnist-classifier'):.2%} (target ≥ 99 %)")
        x, y, sec = samples(unet, sched, a.n, 3.0, "ddim")
        acc, fd, div = score(clf, real, x, y)
        print(f"\ntarget 1: CFG w = 3, DDIM-50, {a.n} samples: conditional accuracy {acc:.2%} (target ≥ 98 %: "
              f"{'met' if acc >= 0.98 else 'NOT met'}); Fréchet {fd:.2f}; sampled in {sec:.0f} s on {dev.type}")

    if a.part in ("all", "sweep"):
        m, s = floor(clf, real, a.n_sweep)
        print(f"\nguidance sweep, DDIM-50, {a.n_sweep} samples per w; Fréchet to the 10,000 test digits "
              f"(real {a.n_sweep} training digits score {m:.2f} ± {s:.2f})")
        print(f"{'w':>4s} {'accuracy':>9s} {'Fréchet':>8s} {'diversity':>9s} {'seconds':>8s}")
        for w in (0, 1, 3, 5, 7):
            x, y, sec = samples(unet, sched, a.n_sweep, float(w), "ddim", seed=1)
            acc, fd, div = score(clf, real, x, y)
            print(f"{w:4d} {acc:9.2%} {fd:8.2f} {div:9.2f} {sec:8.0f}")

    if a.part in ("all", "compare"):
        m, s = floor(clf, real, a.n)
        keys = [k for k in a.samplers.split(",") if k]
        unknown = sorted(set(keys) - set(SAMPLERS))
        if unknown:
            raise SystemExit(f"--samplers: unknown {unknown}; choose from {sorted(SAMPLERS)}")
        print(f"\ntarget 2 (DDIM-50 vs DDPM-1000) and variants, ratios to {SAMPLERS[keys[0]][0]}: w = 1, "
              f"{a.n} samples each from the same x_T; Fréchet to the 10,000 test digits "
              f"(real {a.n} training digits: {m:.2f} ± {s:.2f})")
        ref, res = keys[0], {}
        for sampler in keys:
            x, y, sec = samples(unet, sched, a.n, 1.0, sampler)
            res[sampler] = score(clf, real, x, y)
            print(f"  {SAMPLERS[sampler][0]:17s} accuracy {res[sampler][0]:.2%}  Fréchet {res[sampler][1]:6.2f} "
                  f"(× {res[sampler][1] / res[ref][1]:.2f} {SAMPLERS[ref][0]})  diversity {res[sampler][2]:.2f}  "
                  f"({f'sampled in {sec:.0f} s' if sec else 'kept samples'})", flush=True)
        if "ddim" in res and "ddpm" in res:
            r = res["ddim"][1] / res["ddpm"][1]
            print(f"  ratio DDIM-50 / DDPM-1000 {r:.3f} (target ≤ 1.10: {'met' if r <= 1.10 else 'NOT met'})")


def throughput(batch=128, iters=30):
    """U-Net training steps per second on a GPU: eager fp32, bf16 autocast + channels_last, torch.compile,
    and CUDA graphs (torch.compile mode="max-autotune" captures them)."""
    from diffedu.models import UNet

    sched = recipe_schedule("mnist-unet")
    x = torch.randn(batch, 1, 28, 28, device=dev)
    y = torch.randint(0, 10, (batch,), device=dev)

    def bench(name, model, amp=None, cl=False):
        if cl:
            model = model.to(memory_format=torch.channels_last)
        opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
        xx = x.to(memory_format=torch.channels_last) if cl else x

        def step():
            with torch.autocast(dev.type, dtype=amp, enabled=amp is not None):
                loss = de.diffusion_loss(model, xx, sched, y=y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()

        for _ in range(5):
            step()
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        for _ in range(iters):
            step()
        torch.cuda.synchronize()
        print(f"{name:44s} {batch * iters / (time.perf_counter() - t0):8.0f} img/s")

    cfg = RECIPES["mnist-unet"]["model"]
    bench("eager fp32", UNet(**cfg).to(dev))
    bench("eager bf16 autocast + channels_last", UNet(**cfg).to(dev), torch.bfloat16, True)
    bench("torch.compile, bf16", torch.compile(UNet(**cfg).to(dev)), torch.bfloat16)
    bench("torch.compile max-autotune (CUDA graphs), bf16",
          torch.compile(UNet(**cfg).to(dev), mode="max-autotune"), torch.bfloat16)


if a.throughput:
    if dev.type != "cuda":
        raise SystemExit("--throughput measures GPU training speed: run it where CUDA is available")
    throughput()
else:
    quality()
