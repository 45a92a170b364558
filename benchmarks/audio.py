"""Lesson 14's audio targets (issue 34), measured without a learned judge (``diffedu.audio``).

    .venv/bin/python benchmarks/audio.py                        # w = 3, 500 samples: pitch and duration shares
    .venv/bin/python benchmarks/audio.py --w 0,1,3 --n 192      # the shares against w
    .venv/bin/python benchmarks/audio.py --model PATH           # a candidate checkpoint instead of the shipped one
    .venv/bin/python benchmarks/audio.py --state S.state --n 96   # a training state's EMA weights (mid-run)
    .venv/bin/python benchmarks/audio.py --latency              # one sample after a control moves (the widget)

Samples: the labels cycle through all 96 (pitch, timbre, seconds_total) combinations, DDIM-``--steps`` from
noise of a fixed seed on ``model.given(labels, w)`` with x̂₀ clipped to [−1, 1]. A sample is *at the asked pitch*
when its spectral f0 is within 50 cents of it, and *respects the duration* when its envelope ends within 50 ms
of seconds_total. Each share is printed with n and its standard error √(p(1 − p)/n); the data themselves score
1.000 on both (tests/test_audio.py).
"""
import argparse
import time

import torch

import diffedu as de
from diffedu import audio, checkpoint
from diffedu.datasets import notes
from diffedu.widgets.audio import generate


def load(path, state=None, prediction="x0"):
    if state is not None:  # a training state's EMA weights (recipe notes-dit's process; --prediction as trained)
        from diffedu.processes import DiscreteVP
        from diffedu.train_state import load_training

        res, step = load_training(state)
        print(f"training state {state}, step {step}")
        net = res.ema.eval()
        return de.DiffusionModel(net, DiscreteVP("cosine", 1000), prediction, net.num_classes)
    return de.pretrained("notes-dit") if path is None else checkpoint.load(path)


def measure(model, w: float, n: int, steps: int, chunk: int, seed: int = 0) -> dict:
    y = torch.arange(n) % notes.NUM_CLASSES
    g = torch.Generator().manual_seed(seed)
    noise = torch.randn(n, 1, notes.CLIP_SAMPLES, generator=g)
    out = []
    t0 = time.time()
    with torch.no_grad():
        for i in range(0, n, chunk):
            out.append(de.ddim_sample(model.given(y[i:i + chunk], w), noise[i:i + chunk], steps, clip_x0=1.0))
    seconds = time.time() - t0
    x = torch.cat(out)
    pitch, timbre, total = notes.split_label(y)
    r = audio.judge(x, pitch, total)
    per_timbre = {notes.TIMBRE_NAMES[k]: float(r["pitch_ok"][timbre == k].double().mean()) for k in range(3)}
    per_duration = {f"{d:g}": float(r["duration_ok"][total == d].double().mean()) for d in notes.DURATIONS}
    return dict(r, seconds_sampling=seconds, per_timbre=per_timbre, per_duration=per_duration)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=None, help="a checkpoint path (default: the shipped notes-dit)")
    p.add_argument("--state", default=None, help="a training state (--state of the recipe) instead of a checkpoint")
    p.add_argument("--prediction", default="x0", help="what the state's network predicts (x0; v for the v run)")
    p.add_argument("--w", default="3", help="guidance scales, comma-separated")
    p.add_argument("--n", type=int, default=500)
    p.add_argument("--steps", type=int, default=25, help="DDIM steps")
    p.add_argument("--chunk", type=int, default=100)
    p.add_argument("--latency", action="store_true", help="time one sample as the widget draws it")
    a = p.parse_args()
    torch.set_grad_enabled(False)
    model = load(a.model, a.state, a.prediction)
    print(model)
    if a.latency:
        for i, (pitch, w) in enumerate((("A4", 3.0), ("C4", 3.0), ("E4", 1.0))):
            t0 = time.time()
            generate(model, pitch, "clarinet", 0.5, w, a.steps, seed=i)
            print(f"one sample, DDIM-{a.steps}, w = {w:g}: {time.time() - t0:.2f} s")
        return
    print(f"| w | n | at the asked pitch (± SE) | duration respected (± SE) | sampling s | DDIM steps |")
    print("|---|---|---|---|---|---|")
    for w in (float(v) for v in a.w.split(",")):
        r = measure(model, w, a.n, a.steps, a.chunk)
        print(f"| {w:g} | {r['n']} | {r['pitch']:.3f} ± {r['pitch_se']:.3f} | {r['duration']:.3f} ± "
              f"{r['duration_se']:.3f} | {r['seconds_sampling']:.0f} | {a.steps} |", flush=True)
        print(f"    pitch by timbre {r['per_timbre']}; duration by seconds_total {r['per_duration']}", flush=True)


if __name__ == "__main__":
    main()
