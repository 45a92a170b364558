"""2-D training time to the quality target: DDPM samples within 1.5× of the sampling-noise floor.

    .venv/bin/python benchmarks/train_2d.py [--device cuda]

Trains the ring8-mlp recipe and, every 1000 steps, samples 5000 points with DDPM-1000 from the EMA
weights and prints the sliced-Wasserstein distance as a multiple of the noise floor.
"""
import argparse
import time

import torch

import diffedu as de
from diffedu import metrics, schedules, toy
from diffedu.recipes import RECIPES

p = argparse.ArgumentParser()
p.add_argument("--device", default=None)
p.add_argument("--steps", type=int, default=RECIPES["ring8-mlp"]["steps"])
a = p.parse_args()

mix, s, n = toy.ring(), schedules.linear(1000), 5000
floor, _ = metrics.noise_floor(mix.sample, n, repeats=10)
data = mix.sample(50_000, torch.Generator().manual_seed(0))
t_train = 0.0


def evaluate(step, result):
    global t_train
    if step % 1000:
        return
    t_train = time.perf_counter() - t_start
    g = torch.Generator().manual_seed(step)
    dev = next(result.ema.parameters()).device
    x = de.ddpm_sample(de.as_eps_fn(result.ema, s), torch.randn(n, 2, generator=g).to(dev), s, generator=None)
    r = metrics.sliced_wasserstein(x.cpu(), mix.sample(n, g)) / floor
    print(f"step {step:6d}  train time {t_train:6.1f} s  DDPM-1000 distance {r:.2f} × floor"
          + ("  (target reached)" if r <= 1.5 else ""), flush=True)


t_start = time.perf_counter()
de.train(de.MLPDenoiser(), lambda m, b, g: de.diffusion_loss(m, b, s, generator=g), de.tensor_batches(data, 512),
         steps=a.steps, lr=2e-3, progress=False, device=a.device, on_step=evaluate, on_step_every=1000)
