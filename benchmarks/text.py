"""The targets of lessons 10 (text conditioning) and 11 (fine-tuning), measured on the shipped checkpoints.

    .venv/bin/python benchmarks/text.py --part prompts      # lesson 10: digit/attribute accuracy, seen vs held out
    .venv/bin/python benchmarks/text.py --part latency      # lesson 10: prompt box, 10 digits per prompt
    .venv/bin/python benchmarks/text.py --part adapt        # lesson 11: the four methods' table, the backhand's

prompts: 1,000 prompts (100 per digit; templates of the captions with and without attributes) at w = 3, DDIM-25,
scored by the course classifier (digit) and the caption measurements (stroke, slant); then the held-out
(digit, attribute) pairs against seen pairs with the same attribute, 100 samples each.
latency: the prompt box's work for one Enter (10 digits, DDIM-10, CFG in one batch), median of 5, after one warm-up.
adapt: for the base model and every lesson-11 checkpoint, ``adapt.evaluate.measure`` with 100 concept prompts
(10 per digit) and 200 ordinary prompts, DDIM-20, w = 3, the same noise for every model; plus trained numbers,
bytes on disk and the training time recorded in each file.
"""
import argparse
import json
import time

import torch

import diffedu as de
from diffedu import adapt, text
from diffedu.adapt.evaluate import concept_prompts, measure, ordinary_prompts
from diffedu.pretrained import ASSETS
from diffedu.text.captions import NAMES


def prompts_part(model, clf, n_per_digit=100, steps=25, w=3.0):
    templates = ["the digit {name}", "{name}", "a thick {name}", "a thin {name}", "a slanted {name}",
                 "a {name}, leaning left", "{digit}, upright", "the number {digit}", "a bold {name}", "a fine {name}"]
    prompts = [templates[k % len(templates)].format(name=NAMES[d], digit=d) for d in range(10)
               for k in range(n_per_digit)]
    g = torch.Generator().manual_seed(0)
    x_T = torch.randn(len(prompts), 1, 28, 28, generator=g)
    t0 = time.time()
    imgs = de.sample_images(model, prompts, w, steps, x_T=x_T, batch=200)
    all_ = text.summary(text.prompt_agreement(imgs, prompts, clf))
    out = {"n": len(prompts), "steps": steps, "w": w, "seconds": round(time.time() - t0, 1), **all_}
    pairs = {"held out": [(1, "thick"), (7, "left"), (0, "thin")], "seen": [(7, "thick"), (1, "left"), (1, "thin")]}
    for kind, ps in pairs.items():
        for d, a in ps:
            p = f"a {a} {NAMES[d]}" if a != "left" else f"a {NAMES[d]}, leaning left"
            xs = de.sample_images(model, [p] * 100, w, steps, x_T=torch.randn(100, 1, 28, 28, generator=g))
            out[f"{kind}: {p}"] = text.summary(text.prompt_agreement(xs, [p] * 100, clf))
    return out


def latency_part(model, steps=10, w=3.0, repeats=5):
    x_T = torch.randn(10, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    de.sample_images(model, ["a thick seven"] * 10, w, steps, x_T=x_T)
    times = []
    for p in ["a thin two", "a slanted four", "the digit nine", "a bold 3", "zero, upright"][:repeats]:
        t0 = time.perf_counter()
        de.sample_images(model, [p] * 10, w, steps, x_T=x_T)
        times.append(time.perf_counter() - t0)
    return {"median_s": sorted(times)[len(times) // 2], "all_s": [round(t, 3) for t in times], "steps": steps,
            "threads": torch.get_num_threads()}


def adapt_part(base, clf, n_c=100, n_o=200, steps=20, w=3.0, only=None):
    ordinary = ordinary_prompts(n_o)
    rows = {}

    def row(name, model, word, concept="boxed", path=None, trained=None):
        if only and name not in only:
            return
        prompts = concept_prompts(word, n_c)
        t0 = time.time()
        r = {k: v for k, v in measure(model, concept, prompts, ordinary, clf, w, steps).items()
             if not k.endswith("images")}
        r["measure_s"] = round(time.time() - t0, 1)
        if path is not None:
            r.update(bytes=path.stat().st_size, train_s=de.checkpoint.read(path)[0]["meta"].get("seconds"),
                     trained=trained)
        rows[name] = r
        print(name, r, flush=True)

    fresh = lambda: de.pretrained("mnist-text-unet")  # noqa: E731
    n_denoiser = sum(p.numel() for n, p in base.net.named_parameters() if not n.startswith("text."))
    row("base", base, None, path=ASSETS / "mnist-text-unet.safetensors")
    for name, word in (("boxed-dreambooth-no-prior", "[v]"), ("boxed-dreambooth", "[v]")):
        row(name, de.pretrained(name), word, path=ASSETS / f"{name}.safetensors", trained=n_denoiser)
    ti = adapt.attach("boxed-textual-inversion", fresh())
    row("boxed-textual-inversion", ti, "s*", path=adapt.adapter_path("boxed-textual-inversion"),
        trained=ti.net.text.embed.new.numel())
    for name in ("boxed-lora-qk", "boxed-lora-qkvo", "dotted-lora-qkvo"):
        m = adapt.attach(name, fresh())
        row(name, m, adapt.new_words(m)[0], concept=name.split("-")[0],
            path=adapt.adapter_path(name), trained=adapt.count(m.net))
    # the backhand, a style inside the model's range: the plain prompt and the two words it replaces for reference
    row("backhand-base", base, None, concept="backhand")
    row("backhand-base-two-words", base, "bold backslanted", concept="backhand")
    ti = adapt.attach("backhand-textual-inversion", fresh())
    row("backhand-textual-inversion", ti, "s*", concept="backhand", path=adapt.adapter_path("backhand-textual-inversion"),
        trained=ti.net.text.embed.new.numel())
    for name in ("backhand-lora-qk", "backhand-lora-qk-leaning"):
        m = adapt.attach(name, fresh())
        row(name, m, "[u]", concept="backhand", path=adapt.adapter_path(name), trained=adapt.count(m.net))
        if not only or name in only:                       # the identifier alone: the LoRA at s = 0
            adapt.set_scale(m.net, 0.0)
            x = de.sample_images(m, concept_prompts("[u]", n_c), w, steps, bf16=False, batch=100)
            rows[name]["fidelity_at_s0"] = float((adapt.score(x, "backhand") > 0.5).double().mean())
            print(name, "at s = 0:", rows[name]["fidelity_at_s0"], flush=True)
    return rows


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--part", choices=["prompts", "latency", "adapt"], required=True)
    p.add_argument("--out", default=None, help="write the figures as JSON here")
    p.add_argument("--only", default=None, help="adapt: only these rows (comma-separated names)")
    a = p.parse_args()
    base, clf = de.pretrained("mnist-text-unet"), de.pretrained("mnist-classifier")
    result = {"prompts": lambda: prompts_part(base, clf), "latency": lambda: latency_part(base),
              "adapt": lambda: adapt_part(base, clf, only=a.only and a.only.split(","))}[a.part]()
    print(json.dumps(result, indent=1))
    if a.out:
        with open(a.out, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
