"""The MNIST targets of the image lessons, measured on the shipped checkpoints.

    .venv/bin/python benchmarks/mnist.py                     # all parts below, sizes as the issue asks
    .venv/bin/python benchmarks/mnist.py --part compare      # one part: target | sweep | compare
    .venv/bin/python benchmarks/mnist.py --throughput        # GPU: U-Net training img/s, several setups
    .venv/bin/python benchmarks/mnist.py --throughput --device cpu --batch 16 --warm 2 --iters 3   # smoke test

Targets: the clean classifier ≥ 99 % on the test set; CFG w = 3 with DDIM-50 → ≥ 98 % conditional accuracy
over 1,000 samples; DDIM-50 within 10 % of DDPM-1000 on the Fréchet distance in the clean classifier's
features (1,000 samples each, same starting noise, w = 1), followed by variants that show where a gap comes
from: DDIM-50 with η = 1 and 0.5, DDIM-100, DDIM-50 without clipping x̂₀. Plus the sweep over w.

Samples are drawn in chunks of ``--chunk`` and kept as .npy files under ``--keep`` (default
~/.cache/diffedu/bench), in a folder named after the U-Net checkpoint's content hash: an interrupted run
resumes where it stopped, a finished one only re-scores, and a new checkpoint never reuses old samples.
``--unet PATH`` scores a candidate checkpoint instead of the shipped one; ``--samplers`` picks the
comparison's rows, the first being the reference of the ratios (DDPM-1000 by default; a quick screen of a
new checkpoint: ``--samplers ddim-eta1,ddim``, since DDIM-50 with η = 1 scored 0.99 × DDPM-1000). Rows not in
the default list: ``ddpm-tilde`` (DDPM-1000 with σ_t² = β̃_t, another 40 min), ``ddim-quad`` (DDIM-50 on
quadratically spaced timesteps), ``ddim-eta1-high`` / ``ddim-eta1-low`` (η = 1 only for t > 500 / t ≤ 500) and
``ddim1000`` (deterministic DDIM on all 1,000 steps: the ODE with next to no step error, which no step count
can beat).
On a 2-core CPU DDPM-1000 × 1,000 digits takes ~50 min with ``--workers 2`` (one network pass per step at
w = 1); workers draw whole chunks, so the samples are the same whatever ``--workers``.

``--throughput`` times ``de.train`` itself on the U-Net (EMA, clipping and batch drawing included): eager
fp32, bf16 autocast, torch.compile (fp32 or bf16) and CUDA graphs (compile's
"reduce-overhead"), at each ``--batch``. On a CPU it only checks that every setup runs.
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
from diffedu.precision import BF16_TRAINING
from diffedu.pretrained import asset_path
from diffedu.recipes import RECIPES
from diffedu.samplers import ddim_sample, ddpm_sample

p = argparse.ArgumentParser()
p.add_argument("--part", choices=("all", "target", "sweep", "compare"), default="all")
p.add_argument("--n", type=int, default=1000, help="samples for the w = 3 target and the DDIM/DDPM comparison")
p.add_argument("--n-sweep", type=int, default=200, help="samples per w in the sweep")
p.add_argument("--chunk", type=int, default=100)
p.add_argument("--keep", default=os.path.join(os.path.expanduser("~"), ".cache", "diffedu", "bench"))
p.add_argument("--device", default=None)
p.add_argument("--throughput", action="store_true", help="training img/s instead of sample quality (a GPU's figure; "
               "on a CPU, a check that every setup runs: --batch 16 --warm 2 --iters 3)")
p.add_argument("--batch", default="128,512", help="--throughput: batch sizes, comma-separated")
p.add_argument("--setups", default="eager,bf16,compile,graphs", help="--throughput: setups, comma-separated")
p.add_argument("--warm", type=int, default=10, help="--throughput: untimed steps first (compilation happens here)")
p.add_argument("--iters", type=int, default=100, help="--throughput: timed steps")
p.add_argument("--seed", type=int, default=0, help="--part compare: which set of starting noises x_T (another "
               "seed, other digits: how much the ratios move with the draw)")
p.add_argument("--workers", type=int, default=1, help="CPU: draw missing chunks in this many processes of one "
               "thread each (faster than one process of that many threads for these small batches)")
p.add_argument("--unet", default=None, help="a U-Net checkpoint path to score (default: the shipped mnist-unet)")
p.add_argument("--samplers", default="ddpm,ddim,ddim-eta1,ddim100,ddim-noclip,ddim-eta0.5,ddim-from980",
               help="comparison rows, comma-separated keys of SAMPLERS; ratios are to the first")
a = p.parse_args()
dev = de.pick_device(a.device)


def _ddim(grid=50, clip_x0=1.0, **kw):
    """DDIM on ``grid``: a number of steps, or a function of the model's process returning the times."""
    return lambda m, x, g: ddim_sample(m, x, grid(m.process) if callable(grid) else grid, clip_x0=clip_x0,
                                       generator=g, **kw)


SAMPLERS = {  # file key: (label, run(model, x_T, generator)); the model is the U-Net given labels and w
    "ddim": ("DDIM-50", _ddim()),
    "ddim-eta0.5": ("DDIM-50, η = 0.5", _ddim(eta=0.5)),
    "ddim-eta1": ("DDIM-50, η = 1", _ddim(eta=1.0)),
    "ddim100": ("DDIM-100", _ddim(100)),
    # every one of the 1,000 steps, deterministically: the ODE itself, with (almost) no discretisation error
    "ddim1000": ("DDIM-1000", _ddim(1000)),
    # more of the 50 steps at low noise: t_i = T (i/50)², the DDIM paper's spacing for CIFAR-10
    "ddim-quad": ("DDIM-50, t ∝ i²",
                  _ddim([max(1, round(1000 * (i / 50) ** 2)) for i in range(50, 0, -1)] + [0])),
    "ddim-noclip": ("DDIM-50, no clip", _ddim(clip_x0=None)),
    # where along the path fresh noise helps: η = 1 on one half of it, η = 0 on the other
    "ddim-eta1-high": ("DDIM-50, η=1 >500", _ddim(eta=lambda t: float(t > 500))),
    "ddim-eta1-low": ("DDIM-50, η=1 ≤500", _ddim(eta=lambda t: float(t <= 500))),
    # the cosine schedule's ᾱ_T ≈ 2e-9: at t = T an ε-prediction says nothing about x_0 (Lin et al. 2024)
    "ddim-from980": ("DDIM-49 from 980", _ddim(lambda process: process.grid(50)[1:])),
    "ddpm": ("DDPM-1000", lambda m, x, g: ddpm_sample(m, x, clip_x0=1.0, generator=g)),
    # σ_t² = β̃_t: the same as DDIM with η = 1 visiting every step (the DDIM paper's η = 1 row at S = 1000)
    "ddpm-tilde": ("DDPM-1000, β̃", lambda m, x, g: ddpm_sample(m, x, variance="beta_tilde", clip_x0=1.0,
                                                                generator=g)),
}


# samples are kept per checkpoint: the first 12 hex digits of the weights file's sha256
_weights = Path(a.unet or asset_path("mnist-unet")).with_suffix(".safetensors")
UNET_ID = "unet-" + hashlib.sha256(_weights.read_bytes()).hexdigest()[:12]


def _draw_chunk(unet, w, sampler, seed, k, f, threads=None):
    """Chunk k of a row: a.chunk digits from noise seeded (seed, k), saved atomically to f; returns seconds."""
    if threads:
        torch.set_num_threads(threads)
    labels = torch.arange(10).repeat(a.chunk // 10).to(dev)
    g = torch.Generator().manual_seed(seed * 100_003 + k)
    x_T = torch.randn(a.chunk, 1, 28, 28, generator=g).to(dev)
    t0 = time.perf_counter()
    with torch.inference_mode():
        x = SAMPLERS[sampler][1](unet.given(labels, w), x_T, g)
    sec = time.perf_counter() - t0
    np.save(f.with_suffix(f".{os.getpid()}.tmp.npy"), x.cpu().numpy())
    os.replace(f.with_suffix(f".{os.getpid()}.tmp.npy"), f)
    return sec


def samples(unet, n, w, sampler, seed=0):
    """n digits (labels 0..9 in turn) as a (n, 1, 28, 28) float tensor; chunk k starts from noise seeded (seed, k),
    so every sampler run with the same seed starts from the same x_T. Returns (images, labels, seconds); the
    seconds are summed over chunks (CPU time of one worker each, whatever --workers)."""
    if n % a.chunk or a.chunk % 10:
        raise SystemExit("--n must be a multiple of --chunk, and --chunk a multiple of 10")
    keep = Path(a.keep) / UNET_ID
    keep.mkdir(parents=True, exist_ok=True)
    files = [keep / f"{sampler}_w{w:g}_seed{seed}_chunk{a.chunk}_{k}.npy" for k in range(n // a.chunk)]
    todo = [(k, f) for k, f in enumerate(files) if not f.exists()]
    sec = 0.0
    if todo and a.workers > 1 and dev.type == "cpu":
        from concurrent.futures import ProcessPoolExecutor
        from multiprocessing import get_context
        with ProcessPoolExecutor(a.workers, mp_context=get_context("fork")) as pool:
            jobs = [pool.submit(_draw_chunk, unet, w, sampler, seed, k, f, 1) for k, f in todo]
            for (k, f), job in zip(todo, jobs):
                sec += job.result()
                print(f"  {f.name}: {sec:.0f} s so far", flush=True)
    else:
        for k, f in todo:
            sec += _draw_chunk(unet, w, sampler, seed, k, f)
            print(f"  {f.name}: {sec:.0f} s so far", flush=True)
    out = [torch.from_numpy(np.load(f)) for f in files]
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
    unet = de.checkpoint.load(a.unet, dev) if a.unet else de.pretrained("mnist-unet", dev)
    clf = de.pretrained("mnist-classifier", dev)
    x_test, _ = mnist.load("test")
    _, real = metrics.classifier_outputs(clf, x_test)  # the reference: all 10,000 test digits
    if a.part in ("all", "target"):
        print(f"clean classifier test accuracy: {metrics.classifier_accuracy(clf):.2%} (target ≥ 99 %)")
        x, y, sec = samples(unet, a.n, 3.0, "ddim")
        acc, fd, div = score(clf, real, x, y)
        print(f"\ntarget 1: CFG w = 3, DDIM-50, {a.n} samples: conditional accuracy {acc:.2%} (target ≥ 98 %: "
              f"{'met' if acc >= 0.98 else 'NOT met'}); Fréchet {fd:.2f}; sampled in {sec:.0f} s on {dev.type}")

    if a.part in ("all", "sweep"):
        m, s = floor(clf, real, a.n_sweep)
        print(f"\nguidance sweep, DDIM-50, {a.n_sweep} samples per w; Fréchet to the 10,000 test digits "
              f"(real {a.n_sweep} training digits score {m:.2f} ± {s:.2f})")
        print(f"{'w':>4s} {'accuracy':>9s} {'Fréchet':>8s} {'diversity':>9s} {'seconds':>8s}")
        for w in (0, 1, 3, 5, 7):
            x, y, sec = samples(unet, a.n_sweep, float(w), "ddim", seed=1)
            acc, fd, div = score(clf, real, x, y)
            print(f"{w:4d} {acc:9.2%} {fd:8.2f} {div:9.2f} {sec:8.0f}")

    if a.part in ("all", "compare"):
        m, s = floor(clf, real, a.n)
        keys = [k for k in a.samplers.split(",") if k]
        unknown = sorted(set(keys) - set(SAMPLERS))
        if unknown:
            raise SystemExit(f"--samplers: unknown {unknown}; choose from {sorted(SAMPLERS)}")
        print(f"\ntarget 2 (DDIM-50 vs DDPM-1000) and variants, ratios to {SAMPLERS[keys[0]][0]}: w = 1, "
              f"{a.n} samples each from the same x_T (seed {a.seed}); Fréchet to the 10,000 test digits "
              f"(real {a.n} training digits: {m:.2f} ± {s:.2f})")
        ref, res = keys[0], {}
        for sampler in keys:
            x, y, sec = samples(unet, a.n, 1.0, sampler, seed=a.seed)
            res[sampler] = score(clf, real, x, y)
            print(f"  {SAMPLERS[sampler][0]:17s} accuracy {res[sampler][0]:.2%}  Fréchet {res[sampler][1]:6.2f} "
                  f"(× {res[sampler][1] / res[ref][1]:.2f} {SAMPLERS[ref][0]})  diversity {res[sampler][2]:.2f}  "
                  f"({f'sampled in {sec:.0f} s' if sec else 'kept samples'})", flush=True)
        if "ddim" in res and "ddpm" in res:
            r = res["ddim"][1] / res["ddpm"][1]
            print(f"  ratio DDIM-50 / DDPM-1000 {r:.3f} (target ≤ 1.10: {'met' if r <= 1.10 else 'NOT met'})")


def throughput():
    """Training speed of the mnist-unet network in ``de.train`` itself (EMA, gradient clipping, the recipe's
    loss and batch drawing included), per setup and batch size. Each setup first runs ``--warm`` steps
    (torch.compile compiles there), then continues that run for ``--iters`` timed steps."""
    from diffedu.models import UNet

    r = RECIPES["mnist-unet"]
    process = de.DiscreteVP(r["schedule"], r["T"])  # the recipe's process (the shipped U-Net's)
    x, y = mnist.load("train")
    x, y = x.to(dev), y.to(dev)  # the whole training set on the device: no host-to-device copy of each batch

    def loss_fn(m, b, g):
        return de.diffusion_loss(m, b[0], process, generator=g, y=b[1])

    bf16 = BF16_TRAINING
    setups = {"eager": ("eager, fp32", {}), "bf16": ("eager, bf16 autocast", bf16),
              "compile32": ("torch.compile, fp32", dict(compile_mode="default")),
              "compile": ("torch.compile, bf16", dict(bf16, compile_mode="default")),
              "graphs": ("torch.compile reduce-overhead (CUDA graphs), bf16",
                         dict(bf16, compile_mode="reduce-overhead"))}
    keys = [k for k in a.setups.split(",") if k]
    if set(keys) - set(setups):
        raise SystemExit(f"--setups: unknown {sorted(set(keys) - set(setups))}; choose from {sorted(setups)}")
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else f"{dev.type} ({torch.get_num_threads()} threads)"
    print(f"mnist-unet training throughput on {name}, torch {torch.__version__}: {a.warm} warm-up steps, then "
          f"{a.iters} timed steps")
    for batch in (int(b) for b in a.batch.split(",")):
        for k in keys:
            label, kw = setups[k]
            torch.manual_seed(0)
            common = dict(progress=False, device=dev, ema_decay=RECIPES["mnist-unet"]["ema_decay"], **kw)
            t0 = time.perf_counter()
            res = de.train(UNet(**RECIPES["mnist-unet"]["model"]), loss_fn, de.tensor_batches(x, batch, y),
                           steps=a.warm, **common)
            sync()
            t1 = time.perf_counter()
            de.train(res.model, loss_fn, de.tensor_batches(x, batch, y), steps=a.warm + a.iters, result=res,
                     start_step=a.warm, **common)
            sync()
            sec = time.perf_counter() - t1
            print(f"  batch {batch:4d}  {label:52s} {batch * a.iters / sec:8.0f} img/s  "
                  f"{1e3 * sec / a.iters:7.1f} ms/step  (warm-up {t1 - t0:.0f} s)", flush=True)


if a.throughput:
    throughput()
else:
    quality()
