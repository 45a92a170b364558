"""Lesson 00, section 6: does the GAN on the moons get worse when it trains longer?

    .venv/bin/python benchmarks/gan_moons.py [--seeds 5] [--steps 1000,4000] [--n 2000]

Trains lesson 00's GAN (latent 2, hidden 128, depth 3, lr 1e-3, batches of 256, 50,000 training moons) for each
number of steps and each seed (the initial weights and the training noise), and measures what section 6 reads:
W / floor (sliced Wasserstein to a fresh true sample over the noise floor, n points, as the lesson's table),
the share of samples on the moons' outer tips (x beyond the 5 % and 95 % quantiles of true moons' x: 10 % for
true samples) and the samples' spread (the mean per-coordinate std over the data's). Mean ± standard error
over the seeds. The lesson's cpu size trains 1,000 steps, its gpu size 4,000.
"""
import argparse
import time

import torch

from diffedu import metrics, toy
from diffedu.families import GAN, compare, train_gan
from diffedu.train import tensor_batches

ap = argparse.ArgumentParser()
ap.add_argument("--seeds", type=int, default=5)
ap.add_argument("--steps", default="1000,4000")
ap.add_argument("--n", type=int, default=2000)
a = ap.parse_args()
torch.set_num_threads(1)


def moons(n, generator):  # independent draws (lesson 00's sampler: scikit-learn spaces its points evenly)
    pool = toy.sample("moons", 100_000, seed=int(torch.randint(2**31 - 1, (1,), generator=generator)))
    return pool[torch.randint(len(pool), (n,), generator=generator)]


data = toy.sample("moons", 50_000, seed=0)
floor, _ = metrics.noise_floor(moons, a.n, repeats=5)
lo, hi = torch.quantile(data[:, 0], 0.05), torch.quantile(data[:, 0], 0.95)


def describe(x, ref):
    tips = float(((x[:, 0] < lo) | (x[:, 0] > hi)).float().mean())
    return compare.quality(x, ref, floor), tips, float((x.std(0) / data.std(0)).mean())


def mean_se(v):
    v = torch.tensor(v, dtype=torch.float64)
    return f"{v.mean():5.2f} ± {v.std() / len(v) ** 0.5:4.2f}"


print(f"moons, n = {a.n} samples per model, noise floor {floor:.4f}, {a.seeds} seeds per row")
print(f"{'':18s} {'W / floor':>13s} {'on the tips':>13s} {'spread':>13s} {'seconds':>8s}")
real = [describe(moons(a.n, torch.Generator().manual_seed(100 + s)), moons(a.n, torch.Generator().manual_seed(s)))
        for s in range(a.seeds)]
print(f"{'true samples':18s} " + " ".join(f"{mean_se([r[i] for r in real]):>13s}" for i in range(3)))
for steps in map(int, a.steps.split(",")):
    res, t0 = [], time.perf_counter()
    for s in range(a.seeds):
        torch.manual_seed(s)
        gan = GAN(latent=2, hidden=128, depth=3)
        out = train_gan(gan, tensor_batches(data, 256), steps=steps, lr=1e-3, seed=s, progress=False)
        with torch.no_grad():
            x = out.ema.eval().sample(a.n, torch.Generator().manual_seed(1))
        res.append(describe(x, moons(a.n, torch.Generator().manual_seed(2 + s))))
    sec = (time.perf_counter() - t0) / a.seeds
    print(f"{f'GAN, {steps} steps':18s} " + " ".join(f"{mean_se([r[i] for r in res]):>13s}" for i in range(3))
          + f" {sec:8.0f}")
