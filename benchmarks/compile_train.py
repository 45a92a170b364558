"""Issue 36: does torch.compile pay in a recipe's training on this CPU? One recipe, the same batches and noise,
four setups — fp32 eager, bf16 autocast eager (``BF16_TRAINING``; the runs recorded before channels_last was
dropped used it too), and each of the two through ``torch.compile`` (default mode) — each trained ``--steps``
steps; img/s over the steps after ``--warm`` (compilation happens in the first steps), and how long the first
``--warm`` steps took (the compile's price, to set against a run's length).

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/compile_train.py --recipe mnist-unet --steps 130 --warm 30

The loss column is the mean of the last 50 steps: a check that nothing diverged, not a comparison (50 steps of a
run's warm-up are too few; bf16_curves.py compares precisions over 500).
"""
import argparse
import statistics
import time

import torch

from diffedu.precision import BF16_TRAINING
from diffedu.recipes import RECIPES, setup
from diffedu.train import train

ap = argparse.ArgumentParser()
ap.add_argument("--recipe", default="mnist-unet")
ap.add_argument("--steps", type=int, default=130)
ap.add_argument("--warm", type=int, default=30)
ap.add_argument("--threads", type=int, default=2)
a = ap.parse_args()
torch.set_num_threads(a.threads)
r = RECIPES[a.recipe]
print(f"{a.recipe}, batch {r['batch']}, {torch.get_num_threads()} threads, {a.steps} steps, timed after {a.warm}")
bf16 = BF16_TRAINING
for label, kw in (("fp32 eager", {}), ("bf16 eager", bf16), ("bf16 compile", dict(bf16, compile_mode="default")),
                  ("fp32 compile", dict(compile_mode="default"))):
    s, stamps = setup(a.recipe), []
    t0 = time.perf_counter()
    res = train(s.net, s.loss, s.batches, steps=a.steps, seed=r["seed"], lr=r["lr"], ema_decay=r["ema_decay"],
                progress=False, device="cpu", on_step=lambda step, result: stamps.append(time.perf_counter()),
                on_step_every=1, **kw)
    dt = (stamps[-1] - stamps[a.warm - 1]) / (len(stamps) - a.warm)       # seconds a step after the warm-up
    print(f"{label:13s}: {r['batch'] / dt:6.1f} img/s after step {a.warm} ({1000 * dt:.0f} ms a step); "
          f"first {a.warm} steps {stamps[a.warm - 1] - t0:.0f} s; loss, last 50 steps {statistics.mean(res.losses[-50:]):.4f}",
          flush=True)
