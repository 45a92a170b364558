"""Lesson 11 (fine-tuning), issue 33: LoRA's memory against full fine-tuning, and textual inversion's other uses.

    .venv/bin/python benchmarks/fine_tuning.py --part memory      # trainable numbers, gradients, AdamW state,
                                                                 #   kept for backward, peak: full vs LoRA vs a word
    .venv/bin/python benchmarks/fine_tuning.py --part inversion   # variations, style transfer, two learned words

memory: ``adapt.memory.training_memory`` (two AdamW steps of the recipes' loss, v-prediction, min-SNR) on the
shipped ``mnist-text-unet`` set up as each method trains — the whole denoiser (DreamBooth; the text tower frozen),
LoRA rank 4 on the cross-attention's Q, K or Q, K, V, O, one new word (textual inversion) — at a batch of 32 (a
recipe's step: 16 examples + 16 prior images) unless ``--batch``; ``--repeats`` rounds, the methods in turn (their
order reversed every other round), after one discarded warm-up round. The peak is the process's peak resident set
above its size before the steps (CPU) or PyTorch's allocator peak (CUDA, ``--device cuda``).

inversion: the lesson's section 7 with ``--n`` samples a row (default 100; DDIM-20, w = 3): "a s* two" against
"a bold backslanted two" from the same noises (backhand, digit, distance to the example two, diversity; MNIST's
other backhand twos as the yardstick); section 6's "a s* zero" … (``--n-style`` prompts, the digits in turn, as
``evaluate.measure`` samples them) split by seen and unseen digits; and the composition of
``backhand-textual-inversion`` (as "s_style") with ``four-textual-inversion`` (as "s_four"). ``--rows`` picks
among variations, style, base-style (the two words, split likewise), composition.
"""
import argparse
import copy
import json
import time

import torch

import diffedu as de
from diffedu import adapt
from diffedu.adapt.concepts import EXAMPLES
from diffedu.adapt.evaluate import concept_prompts, diversity, nearest_distance, share
from diffedu.adapt.memory import training_memory
from diffedu.datasets import mnist
from diffedu.losses import diffusion_loss
from diffedu.recipes.adapt import cross_attention_layers
from diffedu.text import prompt_agreement
from diffedu.text.captions import NAMES, attributes

METHODS = {"full": "full", "lora-qk": ("q", "k"), "lora-qkvo": ("q", "k", "v", "out"), "words": "words"}


def _trainable(base, kind):
    if kind == "words":
        return adapt.freeze_all_but_words(adapt.add_words(copy.deepcopy(base), ["s*"], init="digit")).net
    net = copy.deepcopy(base.net)
    if kind == "full":
        net.requires_grad_(True).text.requires_grad_(False)
        return net
    return adapt.add_lora(net, cross_attention_layers(net, kind), rank=4)


def memory_part(base, batch=32, repeats=5, device="cpu"):
    boxed, digits = adapt.examples("boxed")
    x = boxed.repeat(batch, 1, 1, 1)[:batch].to(device)
    y = base.net.tokenizer.encode([f"a thick {NAMES[int(d)]}" for d in digits.repeat(batch)[:batch]]).to(device)
    base = base.to(device)

    def loss(net):
        return diffusion_loss(net, x, base.process, prediction="v", weighting="min-snr", y=y,
                              generator=torch.Generator(device).manual_seed(0))
    peaks = {k: [] for k in METHODS}
    fixed = {}
    for rnd in range(repeats + 1):
        order = list(METHODS) if rnd % 2 == 0 else list(METHODS)[::-1]
        for k in order:
            r = training_memory(_trainable(base, METHODS[k]), loss)
            if rnd > 0:                                             # round 0: warm-up, discarded
                peaks[k].append(r.pop("peak"))
                fixed[k] = r
        print(f"round {rnd}: " + ", ".join(f"{k} {v[-1] / 2**20:.1f} MB" for k, v in peaks.items() if v), flush=True)
    out = {"batch": batch, "repeats": repeats, "device": device, "threads": torch.get_num_threads()}
    for k, v in peaks.items():
        t = torch.tensor([float(p) for p in v if p is not None], dtype=torch.float64)
        out[k] = {**fixed[k], "peak_mean": float(t.mean()) if len(t) else None,
                  "peak_se": float(t.std() / len(t) ** 0.5) if len(t) > 1 else None, "peaks": [float(p) for p in t]}
    return out


def _rates(x, prompts, clf, concept="backhand"):
    return {"n": len(x), "backhand": share(adapt.score(x, concept) > 0.5),
            "digit": share(prompt_agreement(x, list(prompts), clf)["digit"])}


def inversion_part(base, clf, n=100, n_style=100, steps=20, w=3.0,
                   rows=("variations", "style", "base-style", "composition")):
    fresh = lambda: de.pretrained("mnist-text-unet")  # noqa: E731
    out = {"n": n, "n_style": n_style, "steps": steps, "w": w}
    ti = adapt.attach("backhand-textual-inversion", fresh())
    backhand, _ = adapt.examples("backhand")
    ex_two = backhand[EXAMPLES["backhand"].index(2)][None]
    xt, yt = mnist.load("test")
    twos = xt[yt == 2]
    d = nearest_distance(twos[adapt.score(twos, "backhand") == 1], ex_two)
    d = d[d > 0]
    out["real backhand twos: distance"] = (float(d.mean()), float(d.std() / len(d) ** 0.5), len(d))
    for p, m in (("a s* two", ti), ("a bold backslanted two", base)) if "variations" in rows else ():
        x = de.sample_images(m, [p] * n, w, steps, seed=11, bf16=False, batch=100)
        dist = nearest_distance(x, ex_two)
        out[f"variations: {p}"] = {**_rates(x, [p] * n, clf), "distance": (float(dist.mean()),
                                   float(dist.std() / n ** 0.5)), "diversity": diversity(x, [p] * n)}
        print(p, out[f"variations: {p}"], flush=True)
    seen = torch.tensor([i % 10 in EXAMPLES["backhand"] for i in range(n_style)])  # style transfer
    for word, m in (("s*", ti), ("bold backslanted", base)):
        if ("style" if word == "s*" else "base-style") not in rows:
            continue
        prompts = concept_prompts(word, n_style)
        x = de.sample_images(m, prompts, w, steps, seed=0, bf16=False, batch=100)   # as evaluate.measure samples
        for label, part in (("seen", seen), ("unseen", ~seen)):
            out[f"style: a {word} …, {label} digits"] = _rates(x[part], [q for q, s in zip(prompts, part) if s], clf)
            print(word, label, out[f"style: a {word} …, {label} digits"], flush=True)
    duo = adapt.attach("four-textual-inversion", adapt.attach("backhand-textual-inversion", fresh(),
                                                              words=["s_style"]), words=["s_four"])
    for p, m in (("a s_four", duo), ("a s_style s_four", duo), ("a bold backslanted four", base)) \
            if "composition" in rows else ():                                       # two learned words
        x = de.sample_images(m, [p] * n, w, steps, seed=13, bf16=False, batch=100)
        att = attributes(x)
        out[f"composition: {p}"] = {"n": n, "four": share(prompt_agreement(x, ["four"] * n, clf)["digit"]),
                                    "backhand": share(adapt.score(x, "backhand") > 0.5),
                                    "thin": share(torch.tensor([a["stroke"] == "thin" for a in att])),
                                    "upright": share(torch.tensor([a["slant"] == "upright" for a in att]))}
        print(p, out[f"composition: {p}"], flush=True)
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--part", choices=["memory", "inversion"], required=True)
    p.add_argument("--batch", type=int, default=32, help="memory: images a step")
    p.add_argument("--repeats", type=int, default=5, help="memory: measured rounds")
    p.add_argument("--device", default="cpu")
    p.add_argument("--n", type=int, default=100, help="inversion: samples a row")
    p.add_argument("--n-style", type=int, default=100, help="inversion: prompts of the style split")
    p.add_argument("--rows", default="variations,style,base-style,composition", help="inversion: which rows")
    p.add_argument("--out", default=None, help="write the figures as JSON here")
    a = p.parse_args()
    t0 = time.time()
    base = de.pretrained("mnist-text-unet")
    if a.part == "memory":
        result = memory_part(base, a.batch, a.repeats, a.device)
    else:
        result = inversion_part(base, de.pretrained("mnist-classifier"), a.n, a.n_style, rows=a.rows.split(","))
    result["seconds"] = round(time.time() - t0, 1)
    print(json.dumps(result, indent=1))
    if a.out:
        with open(a.out, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
