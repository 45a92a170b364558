"""Issue 36: does bf16 autocast train to the same loss as fp32? Same recipe, same batches, same noise, two precisions.

    .venv/bin/python benchmarks/bf16_curves.py --recipes mnist-unet,cifar-unet --steps 500 [--threads 2]

For each recipe it trains ``--steps`` steps from the same initial weights in fp32 and in bf16 autocast (what
``--precision auto`` chooses on a CPU with native bf16), and prints the training loss averaged over windows of 50
steps (the overlaid curves), the last 100 steps' mean ± standard error for each precision, and images per second.
The learning-rate schedule is the recipe's, compressed to ``--steps``. (The first runs recorded in
benchmarks/README.md trained bf16 with channels_last too; it has since been dropped as slower on the CPU.)
"""
import argparse
import time

import torch

from diffedu.precision import BF16_TRAINING
from diffedu.recipes import RECIPES, setup, train_recipe

ap = argparse.ArgumentParser()
ap.add_argument("--recipes", default="mnist-unet,cifar-unet")
ap.add_argument("--steps", type=int, default=500)
ap.add_argument("--window", type=int, default=50)
ap.add_argument("--threads", type=int, default=None)
a = ap.parse_args()
if a.threads:
    torch.set_num_threads(a.threads)
print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {a.steps} steps per run")


def mean_se(v):
    v = torch.tensor(v, dtype=torch.float64)
    return v.mean().item(), (v.std() / len(v) ** 0.5).item()


for name in a.recipes.split(","):
    batch = int(RECIPES[name].get("batch", 0)) or None
    curves, rates = {}, {}
    for label, kw in (("fp32", {}), ("bf16", BF16_TRAINING)):
        torch.manual_seed(0)
        t0 = time.perf_counter()
        res = train_recipe(name, a.steps, progress=False, device="cpu", prepared=setup(name), **kw)
        sec = time.perf_counter() - t0
        curves[label] = res.losses
        rates[label] = (batch or 0) * a.steps / sec
        print(f"  {name} {label}: {sec:.0f} s" + (f", {rates[label]:.1f} img/s" if batch else ""), flush=True)
    print(f"\n{name}: training loss, mean over each window of {a.window} steps")
    print(f"  {'steps':>9s} {'fp32':>9s} {'bf16':>9s}")
    for i in range(0, a.steps, a.window):
        f, b = (sum(curves[k][i:i + a.window]) / len(curves[k][i:i + a.window]) for k in ("fp32", "bf16"))
        print(f"  {i + 1:4d}–{i + a.window:<4d} {f:9.4f} {b:9.4f}")
    (mf, sf), (mb, sb) = mean_se(curves["fp32"][-100:]), mean_se(curves["bf16"][-100:])
    z = (mb - mf) / (sf ** 2 + sb ** 2) ** 0.5
    print(f"  last 100 steps: fp32 {mf:.4f} ± {sf:.4f}, bf16 {mb:.4f} ± {sb:.4f} (difference {z:+.1f} s.e.: "
          f"{'a tie' if abs(z) < 2 else 'not a tie'})" + (f"; throughput bf16 / fp32 = {rates['bf16'] / rates['fp32']:.2f}×"
                                                          if batch else "") + "\n", flush=True)
