"""Lesson 14's video targets, measured on the shipped ``video-dit`` (or a candidate checkpoint):

    .venv/bin/python benchmarks/video.py                     # 200 clips at w = 3, DDIM-25; real clips beside them
    .venv/bin/python benchmarks/video.py --n 50 --w 0,1,3    # a quick look at several guidance scales
    .venv/bin/python benchmarks/video.py --ckpt run.safetensors

Targets (issue 34): the asked digit in ≥ 90 % of frames over 200 clips (w = 3), read by the shipped
``mnist-classifier`` on 28×28 crops around each frame's ink centroid; the path's mean deviation from a
constant-velocity path with bounces within 2 px (``diffedu.video_metrics``). Beside them: 200 real test clips
(the ceiling of both numbers under this judge) and the same real clips with their frames shuffled (what a path
without constant velocity scores). Each figure: mean over clips ± standard error. n clips have an equal number
of each digit.
"""
import argparse
import time

import torch

import diffedu as de
from diffedu import checkpoint
from diffedu.datasets.moving_mnist import MovingDigits, ink_centroid
from diffedu.video_metrics import clip_scores, path_deviation, sample_clips, summary

p = argparse.ArgumentParser()
p.add_argument("--ckpt", default=None, help="a checkpoint file (default: the shipped video-dit)")
p.add_argument("--n", type=int, default=200)
p.add_argument("--w", default="3")
p.add_argument("--steps", type=int, default=25)
p.add_argument("--seed", type=int, default=0)
a = p.parse_args()

model = checkpoint.load(a.ckpt) if a.ckpt else de.pretrained("video-dit")
clf = de.pretrained("mnist-classifier")
cfg = model.net.config
labels = torch.arange(10).repeat((a.n + 9) // 10)[: a.n]
clips = MovingDigits("test", frames=cfg["frames"], size=cfg["image_size"], digit=14)
real, real_y, _ = clips.sample(a.n, torch.Generator().manual_seed(a.seed), labels=labels)


def row(name, sc, seconds=None):
    d, dse = summary(sc["digit_rate"])
    v, vse = summary(sc["deviation"])
    extra = f"   ({seconds:.0f} s)" if seconds is not None else ""
    print(f"| {name} | {a.n} | {100 * d:.1f} ± {100 * dse:.1f} % | {v:.2f} ± {vse:.2f} px |{extra}", flush=True)


print("| clips | n | frames read as the asked digit | path deviation |")
print("|---|---|---|---|")
row("real (test digits)", clip_scores(clf, real, real_y))
shuffled = path_deviation(ink_centroid(real)[:, torch.randperm(cfg["frames"], generator=torch.Generator().manual_seed(1))])
print(f"| real, frames shuffled | {a.n} | — | {summary(shuffled)[0]:.2f} ± {summary(shuffled)[1]:.2f} px |")
for w in (float(v) for v in a.w.split(",")):
    t0 = time.time()
    x = sample_clips(model, labels, w, a.steps, seed=a.seed)
    row(f"video-dit, w = {w:g}, DDIM-{a.steps}", clip_scores(clf, x, labels), time.time() - t0)
