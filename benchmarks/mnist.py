"""The MNIST targets of the image lessons, measured on the shipped checkpoints.

    .venv/bin/python benchmarks/mnist.py [--n 1000] [--device cuda]
    .venv/bin/python benchmarks/mnist.py --throughput        # GPU: U-Net training img/s, several setups

Targets: CFG w = 3 with DDIM-50 → ≥ 98 % conditional accuracy over 1,000 samples; DDIM-50 within 10 % of
DDPM-1000 on the Fréchet distance in the clean classifier's features; and the clean classifier itself
≥ 99 % on the test set. On a CPU, DDPM-1000 is the expensive part: the comparison uses 100 samples at w = 1
(one network pass per step); pass --device cuda to afford more.
"""
import argparse
import time

import torch

import diffedu as de
from diffedu import metrics
from diffedu.datasets import mnist
from diffedu.guidance import cfg_eps_fn
from diffedu.recipes import RECIPES, classifier_accuracy, pretrained, recipe_schedule
from diffedu.samplers import ddim_sample, ddpm_sample

p = argparse.ArgumentParser()
p.add_argument("--n", type=int, default=1000)
p.add_argument("--device", default=None)
p.add_argument("--throughput", action="store_true")
a = p.parse_args()
dev = de.pick_device(a.device)


def _measure(unet, clf, sched, real, n, w, sampler, seed=0):
    labels = torch.arange(10).repeat(n // 10).to(dev)
    g = torch.Generator().manual_seed(seed)
    x_T = torch.randn(len(labels), 1, 28, 28, generator=g).to(dev)
    t0 = time.perf_counter()
    with torch.no_grad():
        if sampler == "ddpm":
            x = ddpm_sample(cfg_eps_fn(unet, labels, w), x_T, sched, clip_x0=1.0, generator=g)
        else:
            x = ddim_sample(cfg_eps_fn(unet, labels, w), x_T, sched, steps=50, clip_x0=1.0)
    sec = time.perf_counter() - t0
    preds, feats = metrics.classifier_outputs(clf, x)
    return (float((preds == labels.cpu()).double().mean()), metrics.frechet_distance(feats, real[: len(feats)]),
            metrics.feature_diversity(feats, labels.cpu()), sec)


def quality():
    unet, clf = pretrained("mnist-unet", dev), pretrained("mnist-classifier", dev)
    sched = recipe_schedule("mnist-unet")
    print(f"clean classifier test accuracy: {classifier_accuracy(clf, 'mnist-classifier'):.2%}   (target ≥ 99 %)")
    x_test, _ = mnist.load("test")
    _, real = metrics.classifier_outputs(clf, x_test[:5000])
    _, real2 = metrics.classifier_outputs(clf, x_test[5000:])

    acc3, fd3, div3, sec3 = _measure(unet, clf, sched, real, a.n, 3.0, "ddim")
    print(f"\ntarget 1: CFG w = 3, DDIM-50, {a.n} samples: conditional accuracy {acc3:.2%} (target ≥ 98 %: "
          f"{'met' if acc3 >= 0.98 else 'NOT met'}); {sec3:.0f} s on {dev.type}")

    n_sweep = min(a.n, 200)
    print(f"\nguidance sweep, DDIM-50, {n_sweep} samples (Fréchet floor at this n: "
          f"{metrics.frechet_distance(real2[:n_sweep], real[:n_sweep]):.2f})")
    print(f"{'w':>4s} {'accuracy':>9s} {'Fréchet':>8s} {'diversity':>9s}")
    for w in (0, 1, 3, 5, 7):
        acc, fd, div, _ = _measure(unet, clf, sched, real, n_sweep, float(w), "ddim")
        print(f"{w:4d} {acc:9.2%} {fd:8.2f} {div:9.2f}")

    n_cmp = min(a.n, 100)
    d = _measure(unet, clf, sched, real, n_cmp, 1.0, "ddim")
    p = _measure(unet, clf, sched, real, n_cmp, 1.0, "ddpm")
    print(f"\ntarget 2: DDIM-50 vs DDPM-1000, w = 1, {n_cmp} samples each (same noise, Fréchet to the same real set):")
    print(f"  DDIM-50   accuracy {d[0]:.2%}  Fréchet {d[1]:.2f}  ({d[3]:.0f} s)")
    print(f"  DDPM-1000 accuracy {p[0]:.2%}  Fréchet {p[1]:.2f}  ({p[3]:.0f} s)")
    print(f"  ratio {d[1] / p[1]:.2f} (target ≤ 1.10: {'met' if d[1] <= 1.10 * p[1] else 'NOT met'})")


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
