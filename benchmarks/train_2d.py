"""2-D training time to the quality target: DDPM samples within 1.5× of the sampling-noise floor.

    .venv/bin/python benchmarks/train_2d.py [--device cuda]

Trains the ring8-mlp recipe and, every 1000 steps, samples 5000 points with DDPM-1000 from the EMA
weights and prints the sliced-Wasserstein distance as a multiple of the noise floor.
"""
import argparse
import time

import torch

import diffedu as de
from diffedu import metrics, toy
from diffedu.recipes import RECIPES

recipe = RECIPES["ring8-mlp"]
p = argparse.ArgumentParser()
p.add_argument("--device", default=None)
p.add_argument("--steps", type=int, default=recipe["steps"])
a = p.parse_args()

mix, process, n = toy.ring(), de.DiscreteVP(recipe["schedule"], recipe["T"]), 5000
floor, _ = metrics.noise_floor(mix.sample, n, repeats=10)
data = mix.sample(50_000, torch.Generator().manual_seed(0))
t_train = 0.0


def evaluate(step, result):
    global t_train
    if step % 1000:
        return
    t_train = time.perf_counter() - t_start
    g = torch.Generator().manual_seed(step)
    model = de.DiffusionModel(result.ema, process)  # the EMA weights, read as an ε-prediction on the process
    x = de.ddpm_sample(model, torch.randn(n, 2, generator=g).to(model.device), generator=None)
    r = metrics.sliced_wasserstein(x.cpu(), mix.sample(n, g)) / floor
    print(f"step {step:6d}  train time {t_train:6.1f} s  DDPM-1000 distance {r:.2f} × floor"
          + ("  (target reached)" if r <= 1.5 else ""), flush=True)


t_start = time.perf_counter()
de.train(de.MLPDenoiser(**recipe["model"]), lambda m, b, g: de.diffusion_loss(m, b, process, generator=g),
         de.tensor_batches(data, recipe["batch"]), steps=a.steps, lr=recipe["lr"], progress=False, device=a.device,
         on_step=evaluate, on_step_every=1000)
