"""Lessons 12–13 (issue 18): sampling in a few steps, measured.

    .venv/bin/python benchmarks/fewstep.py --part nfe      # MNIST quality against NFE, 1,000 samples, same noise
    .venv/bin/python benchmarks/fewstep.py --part guided   # the guidance-distilled student: slider time, quality
    .venv/bin/python benchmarks/fewstep.py --part toy      # 2-D: PD-1 against the noise floor; one reflow
    .venv/bin/python benchmarks/fewstep.py --part unet-vs-flow   # lesson 13, section 5: DDIM on mnist-unet against
                                                                 #   Euler on mnist-flow, same noise, w = 1, with s.e.
    .venv/bin/python benchmarks/fewstep.py --part unet-vs-flow --models mnist-flow --steps 50,8,4 --n 1000
                                                                 # lesson 12: the teacher alone, with s.e.

Course Fréchet distance: the features of the independent `mnist-classifier`, against all 10,000 test digits
(``metrics.digit_scores``); real training digits at the same n give the floor printed first. Every MNIST sampler
starts from the same x_T and labels (0…9 repeated); "DDIM-k" on the flow teacher is Euler-k (lesson 13).
"""
import argparse
import copy
import time

import torch

import diffedu as de
from diffedu import metrics, toy
from diffedu.samplers import consistency_sample
from diffedu.datasets import mnist
from diffedu.fewstep import distill_round
from diffedu.fewstep import flow_matching_loss, reflow_loss, reflow_pairs
from diffedu.samplers import euler_sample, heun_sample
from diffedu.images import sample_images

ap = argparse.ArgumentParser()
ap.add_argument("--part", choices=["nfe", "guided", "toy", "unet-vs-flow", "all"], default="all")
ap.add_argument("--steps", default="1,2,4,8,16", help="unet-vs-flow: the step counts")
ap.add_argument("--models", default="mnist-unet,mnist-flow", help="unet-vs-flow: the shipped models compared")
ap.add_argument("--n", type=int, default=1000)
ap.add_argument("--ddpm-steps", type=int, default=0, help="also the teacher's stochastic sampler with this many steps")
ap.add_argument("--threads", type=int, default=None)
a = ap.parse_args()
if a.threads:
    torch.set_num_threads(a.threads)
print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")


def mnist_setup():
    clf = de.pretrained("mnist-classifier")
    x_test, _ = mnist.load("test")
    _, real = metrics.classifier_outputs(clf, x_test)
    labels = torch.arange(a.n) % 10
    x_T = torch.randn(a.n, 1, 28, 28, generator=torch.Generator().manual_seed(5))
    return clf, real, labels, x_T


def row(name, nfe, make, clf, real, labels):
    t0 = time.perf_counter()
    s = metrics.digit_scores(clf, make(), labels, real)
    print(f"  {name:22s} {nfe:5d} {s['accuracy']:9.1%} {s['frechet']:8.2f} {s['diversity']:9.2f} "
          f"{time.perf_counter() - t0:8.0f}", flush=True)
    return s


if a.part in ("nfe", "all"):
    clf, real, labels, x_T = mnist_setup()
    x_train, _ = mnist.load("train")
    floor = metrics.digit_scores(clf, x_train[:a.n], labels, real)["frechet"]
    teacher, cd = de.pretrained("mnist-flow"), de.pretrained("mnist-cd")
    pd = {k: de.pretrained(f"mnist-pd-{k}") for k in (8, 4, 2, 1)}
    print(f"\nquality against NFE, {a.n} samples, w = 1 (conditional); {a.n} real training digits: Fréchet {floor:.2f}")
    print(f"  {'sampler':22s} {'NFE':>5s} {'accuracy':>9s} {'Fréchet':>8s} {'diversity':>9s} {'seconds':>8s}")
    res = {}
    if a.ddpm_steps:
        res["ddpm"] = row(f"teacher DDPM-{a.ddpm_steps}", a.ddpm_steps, lambda: de.ddpm_sample(
            teacher.given(labels), x_T, a.ddpm_steps, generator=torch.Generator().manual_seed(0)).clamp(-1, 1),
            clf, real, labels)
    for k in (50, 16, 8, 4, 2, 1):
        res[f"ddim{k}"] = row(f"teacher DDIM-{k}", k, lambda k=k: sample_images(teacher, labels, 1.0, k, x_T=x_T),
                              clf, real, labels)
    for k in (8, 4, 2, 1):
        res[f"pd{k}"] = row(f"PD-{k}", k, lambda k=k: sample_images(pd[k], labels, 1.0, k, x_T=x_T), clf, real, labels)
    for k in (1, 2, 4):
        res[f"cd{k}"] = row(f"CD-{k}", k, lambda k=k: consistency_sample(
            cd.given(labels), x_T, k, generator=torch.Generator().manual_seed(2)).clamp(-1, 1), clf, real, labels)
    ref = res["ddim50"]["frechet"]
    for key, target in (("pd4", 1.3), ("pd1", None), ("cd1", None), ("cd2", 2.0)):
        r = res[key]["frechet"] / ref
        verdict = "" if target is None else f" (target ≤ {target}: {'met' if r <= target else 'NOT met'})"
        print(f"  {key.upper()} / teacher DDIM-50 Fréchet: {r:.2f}{verdict}")

if a.part in ("guided", "all"):
    clf, real, labels, x_T = mnist_setup()
    teacher, student = de.pretrained("mnist-flow"), de.pretrained("mnist-flow-guided")
    ten, x10 = torch.arange(10), torch.randn(10, 1, 28, 28, generator=torch.Generator().manual_seed(1))

    def move(model, w, reps=7):
        sample_images(model, ten, w, 8, x_T=x10)  # warm
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            sample_images(model, ten, w, 8, x_T=x10)
            times.append(time.perf_counter() - t0)
        return 1000 * sorted(times)[reps // 2], 1000 * max(times)

    print("\nCFG slider, 10 digits, DDIM-8, kernel-side time of one move (median / worst of 7):")
    for w in (0.0, 3.0, 6.0):
        (tm, tw), (sm, sw) = move(teacher, w), move(student, w)
        print(f"  w = {w}: teacher (two passes) {tm:.0f} / {tw:.0f} ms, student (one pass) {sm:.0f} / {sw:.0f} ms "
              f"(target ≤ 250 ms: {'met' if sm <= 250 else 'NOT met'})")
    print(f"\nguided quality, {a.n} samples, DDIM-8, same noise:")
    print(f"  {'sampler':22s} {'NFE':>5s} {'accuracy':>9s} {'Fréchet':>8s} {'diversity':>9s} {'seconds':>8s}")
    for w in (1.0, 3.0, 5.0):
        row(f"teacher CFG w={w:g}", 16, lambda w=w: sample_images(teacher, labels, w, 8, x_T=x_T), clf, real, labels)
        row(f"student w={w:g}", 8, lambda w=w: sample_images(student, labels, w, 8, x_T=x_T), clf, real, labels)

if a.part in ("toy", "all"):
    g = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    ring, linear = toy.ring(), de.Linear()
    exact, data = ring.x0_model(linear), ring.sample(50_000, g)
    n = 2000
    ref = ring.sample(n, g)
    floor, floor_sd = metrics.noise_floor(ring.sample, n, repeats=10)
    x = torch.randn(n, 2, generator=g)
    dist = lambda s: float(metrics.sliced_wasserstein(s.float(), ref)) / floor  # noqa: E731
    print(f"\n2-D ring, {n} samples; sliced W2 / noise floor (true samples: 1 ± {floor_sd / floor:.2f})")
    for steps in (300, 2000):  # lesson 12's cpu and gpu sizes
        student, grid, t0 = de.DiffusionModel(de.MLPDenoiser(hidden=256, depth=4), linear, "velocity"), linear.grid(64), \
            time.perf_counter()
        teacher_2d = exact
        for r in range(6):
            student, grid, _ = distill_round(teacher_2d, de.tensor_batches(data, 512), grid, steps=steps,
                                             student=student, lr=1e-3 if r == 0 else 3e-4, progress=False, seed=r)
            teacher_2d = student
        d1 = dist(de.ddim_sample(student, x, 1))
        print(f"  PD, 6 rounds × {steps} steps ({time.perf_counter() - t0:.0f} s): PD-1 {d1:.2f}× floor "
              f"(target ≤ 2: {'met' if d1 <= 2 else 'NOT met'}); exact model DDIM-1 "
              f"{dist(de.ddim_sample(exact, x.double(), 1)):.2f}×, DDIM-64 {dist(de.ddim_sample(exact, x.double(), 64)):.2f}×")
    for fm_steps, rf_steps, pairs in ((4000, 2000, 20_000), (12_000, 6000, 50_000)):  # lesson 13's cpu and gpu sizes
        t0 = time.perf_counter()
        res = de.train(de.MLPDenoiser(), lambda m, b, gen: flow_matching_loss(m, b, generator=gen),
                       de.tensor_batches(data, 512), steps=fm_steps, progress=False)
        flow = de.DiffusionModel(res.ema, linear, prediction="velocity")
        x0_rf, x1_rf = reflow_pairs(flow, pairs, (2,), grid=50, method="heun", generator=g)
        net2 = copy.deepcopy(res.ema).requires_grad_(True)  # the EMA copy is frozen (and is flow's network)
        res2 = de.train(net2, lambda m, b, gen: reflow_loss(m, *b, generator=gen), de.tensor_batches(x0_rf, 512, x1_rf),
                        steps=rf_steps, lr=1e-3, progress=False)
        rf = de.DiffusionModel(res2.ema, linear, prediction="velocity")
        e1, e50 = dist(euler_sample(rf, x, 1)), dist(euler_sample(rf, x, 50))
        print(f"  reflow ({fm_steps} + {rf_steps} steps, {pairs} pairs; {time.perf_counter() - t0:.0f} s): 2-RF Euler-1 "
              f"{e1:.2f}×, Euler-50 {e50:.2f}×, ratio {e1 / e50:.2f} (target ≤ 2: {'met' if e1 <= 2 * e50 else 'NOT met'}); "
              f"1-RF Euler-1 {dist(euler_sample(flow, x, 1)):.2f}×, Euler-50 {dist(euler_sample(flow, x, 50)):.2f}×, "
              f"Heun-50 {dist(heun_sample(flow, x, 50)):.2f}×")


if a.part in ("unet-vs-flow", "all"):  # lesson 13, section 5: at how many steps are the two models level?
    clf = de.pretrained("mnist-classifier")
    x_test, y_test = mnist.load("test")
    labels = torch.arange(a.n) % 10
    x_T = torch.randn(a.n, 1, 28, 28, generator=torch.Generator().manual_seed(5))
    real, floor = metrics.real_baseline(clf, x_test, y_test, labels)   # held-out real digits, same n and classes
    names = {"mnist-unet": "mnist-unet DDIM", "mnist-flow": "mnist-flow Euler"}   # DDIM on Linear is Euler
    models = {names.get(m, m): de.pretrained(m) for m in a.models.split(",")}
    print(f"\n{a.n} samples per row, w = 1, same x_T and labels; reference: the other test digits; "
          f"{a.n} held-out real test digits of the same classes: Fréchet {floor:.2f}")
    print(f"  {'sampler':18s} {'steps':>5s} {'accuracy ± s.e.':>16s} {'Fréchet ± s.e.':>15s} {'seconds':>8s}")
    for k in [int(v) for v in a.steps.split(",")]:
        for name, model in models.items():
            t0 = time.perf_counter()
            preds, feats = metrics.classifier_outputs(clf, sample_images(model, labels, 1.0, k, x_T=x_T))
            acc = float((preds == labels).double().mean())
            fd, se = metrics.frechet_with_se(feats, real)
            print(f"  {name:18s} {k:5d} {acc:8.1%} ± {100 * (acc * (1 - acc) / a.n) ** 0.5:4.1f} % "
                  f"{fd:8.1f} ± {se:4.1f} {time.perf_counter() - t0:8.0f}", flush=True)
