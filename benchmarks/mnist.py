"""The MNIST targets of the image lessons, measured on the shipped checkpoints.

    .venv/bin/python benchmarks/mnist.py [--n 1000] [--device cuda]
    .venv/bin/python benchmarks/mnist.py --throughput        # GPU: U-Net training img/s, several setups

Targets: CFG w = 3 with DDIM-50 → ≥ 98 % conditional accuracy over 1,000 samples; DDIM-50 within 10 % of
DDPM-1000 on the Fréchet distance in the clean classifier's features; and the clean classifier itself
≥ 99 % on the test set.
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


def quality():
    unet, clf = pretrained("mnist-unet", dev), pretrained("mnist-classifier", dev)
    sched = recipe_schedule("mnist-unet")
    print(f"clean classifier test accuracy: {classifier_accuracy(clf, 'mnist-classifier'):.2%}   (target ≥ 99 %)")
    x_test, _ = mnist.load("test")
    _, real = metrics.classifier_outputs(clf, x_test[: a.n])
    _, real2 = metrics.classifier_outputs(clf, x_test[a.n: 2 * a.n])
    print(f"Fréchet distance between two sets of {a.n} real test digits (the floor): "
          f"{metrics.frechet_distance(real2, real):.2f}")
    labels = torch.arange(10).repeat(a.n // 10).to(dev)
    g = torch.Generator().manual_seed(0)
    x_T = torch.randn(len(labels), 1, 28, 28, generator=g).to(dev)
    runs = [(f"DDIM-50, w={w}", lambda w=w: ddim_sample(cfg_eps_fn(unet, labels, w), x_T, sched, steps=50, clip_x0=1.0))
            for w in (0, 1, 3, 5, 7)]
    runs.append(("DDPM-1000, w=3", lambda: ddpm_sample(cfg_eps_fn(unet, labels, 3.0), x_T, sched, clip_x0=1.0,
                                                       generator=g)))
    res = {}
    print(f"{'sampler':16s} {'accuracy':>9s} {'Fréchet':>8s} {'diversity':>9s} {'seconds':>8s}")
    for name, run in runs:
        t0 = time.perf_counter()
        with torch.no_grad():
            x = run()
        sec = time.perf_counter() - t0
        preds, feats = metrics.classifier_outputs(clf, x)
        acc = float((preds == labels.cpu()).double().mean())
        fd = metrics.frechet_distance(feats, real)
        res[name] = (acc, fd)
        print(f"{name:16s} {acc:9.2%} {fd:8.2f} {metrics.feature_diversity(feats, labels.cpu()):9.2f} {sec:8.1f}")
    acc3, fd3 = res["DDIM-50, w=3"]
    fd_ddpm = res["DDPM-1000, w=3"][1]
    print(f"\ntarget 1: DDIM-50 w=3 accuracy {acc3:.2%} (≥ 98 %): {'met' if acc3 >= 0.98 else 'NOT met'}")
    print(f"target 2: DDIM-50 Fréchet {fd3:.2f} vs DDPM-1000 {fd_ddpm:.2f}: ratio {fd3 / fd_ddpm:.2f} (≤ 1.10): "
          f"{'met' if fd3 <= 1.10 * fd_ddpm else 'NOT met'}")


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
