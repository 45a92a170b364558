"""Golden outputs: what every shipped checkpoint and adapter computes for a fixed input, as stored in
``tests/golden/shipped.json`` — a guard against behaviour changes (a refactoring must leave them as they are).

For each case the test recomputes a few quantities and compares a summary of each (shape, mean, std, mean |x|
and 8 values at fixed flat indices) with the stored one, allclose-style: rtol 1e-4, atol 1e-5 times
max(1, mean |x|) — loose enough for float32 differences between BLAS builds and thread counts, far tighter than
any changed formula, schedule, coefficient or weight.

    diffusion models   (``pretrained(name)``: DiffusionModel, LatentDiffusionModel, ConsistencyModel)
                       a seeded input of the model's sample shape, batch 3, at three times of its process
                       (per sample: 90 %, 50 % and 10 % of the way from t_clean to t_max):
                       ``output`` the network's raw prediction (no label: the null label ∅);
                       ``given_w3`` classifier-free guidance ``model.given(y, 3)`` for class-conditional ones
                       (``given_w1`` for the consistency model, conditioned as lesson 12 does);
                       ``prompt_w3`` ``model.given(prompts, 3)`` for the text models;
                       ``x0``, ``eps`` of the conditioned model (guided, prompted, or the SR stage bound to a
                       low-resolution image), which reads the output through the process's α_t, σ_t;
                       ``alpha_sigma`` of the process at those times;
                       ``decode``, ``encode`` for the latent model.
    networks           classifiers: the logits; the CLIP: image embeddings (clean and noisy), text embeddings,
                       the logit scale and the forward's logits; the autoencoder: encode (μ, log σ²), decode.
    adapters           ``adapter:NAME``: ``adapt.attach(NAME, pretrained("mnist-text-unet"))`` prompted
                       (w = 3) with prompts that use the adapter's word.

The stored values were computed by the code of commit 96c6b84 (before the internals were refactored). To
regenerate them ON PURPOSE — a checkpoint retrained, an adapter added, an intended change of behaviour — run

    OMP_NUM_THREADS=1 python tests/test_golden.py --regen

and say in the commit why the golden values changed.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch

GOLDEN = Path(__file__).parent / "golden" / "shipped.json"
RTOL, ATOL = 1e-4, 1e-5
N_VALUES = 8                   # values stored per tensor, at fixed flat indices
FRACTIONS = (0.9, 0.5, 0.1)    # the three times, per sample: t_clean + f (t_max − t_clean)
BATCH = len(FRACTIONS)
LABELS = (3, 7, 0)
W = 3.0
PROMPTS = ("a thick seven", "the digit two", "a slanted 4")
DREAMBOOTH_PROMPTS = ("a [v] two", "a [v] five", "the digit seven")
ADAPTER_WORDS = {"boxed-textual-inversion": "s*", "backhand-textual-inversion": "s*", "boxed-lora-qk": "[v]",
                 "boxed-lora-qkvo": "[v]", "dotted-lora-qkvo": "[w]", "backhand-lora-qk": "[u]",
                 "backhand-lora-qk-leaning": "[u]", "four-textual-inversion": "s*"}
ADAPTER = "adapter:"


# --- inputs ------------------------------------------------------------------------------------------------
def _randn(shape, seed: int) -> torch.Tensor:
    return torch.randn(tuple(shape), generator=torch.Generator().manual_seed(seed))


def _times(process) -> torch.Tensor:
    lo, hi = float(process.t_clean), float(process.t_max)
    ts = [lo + f * (hi - lo) for f in FRACTIONS]
    if process.discrete:
        return torch.tensor([round(t) for t in ts], dtype=torch.long)
    return torch.tensor(ts, dtype=torch.float64)


def _network(model) -> torch.nn.Module:
    m = model
    while not isinstance(m, torch.nn.Module):
        m = m.net
    return m


def _sample_shape(model) -> tuple:
    cfg = _network(model).config
    if "dim" in cfg:
        return (cfg["dim"],)
    m = model
    while not hasattr(m, "sample_shape"):   # a consistency model wraps a diffusion model
        m = m.net
    return m.sample_shape


# --- what each kind of case computes ------------------------------------------------------------------------
def _diffusion(model, seed: int, prompts=PROMPTS) -> dict:
    from diffedu import cascade

    net = _network(model)
    x = _randn((BATCH, *_sample_shape(model)), seed)
    t = _times(model.process)
    a, s = model.process.alpha_sigma(t)
    out = {"alpha_sigma": torch.stack([a, s])}
    if "cond_channels" in net.config:                    # a super-resolution stage: the low-resolution input
        size = net.config["image_size"]
        low = _randn((BATCH, net.config["cond_channels"], size // 2, size // 2), seed + 1).clamp(-1, 1)
        level = torch.full((BATCH,), 0.1)
        z = cascade.augment(cascade.upsample(low, size), level.double(), noise=_randn((BATCH, 3, size, size), seed + 2))
        out["output"] = model.output(x, t, low=z, level=level)
        main = cascade.SuperResolution(model, low, 0.0)
    elif hasattr(net, "empty_prompt"):                   # a text model
        out["output"] = model.output(x, t)
        main = model.given(list(prompts), W)
        out["prompt_w3"] = main.output(x, t)
    elif getattr(model, "num_classes", None):            # class-conditional: classifier-free guidance
        if not net.config.get("guidance"):               # (a guidance-distilled student needs its w)
            out["output"] = model.output(x, t)
        # a consistency model is conditioned with w = 1 (lesson 12): its given(y, w ≠ 0, 1) passes the null
        # label on to its inner model's given(), which refuses it
        w = 1.0 if hasattr(model, "t_min") else W
        main = model.given(torch.tensor(LABELS), w)
        out[f"given_w{w:g}"] = main.output(x, t)
    else:
        out["output"] = model.output(x, t)
        main = model
    out["x0"], out["eps"] = main.x0(x, t), main.eps(x, t)
    if hasattr(model, "autoencoder"):                    # a latent model: its images and latents
        out["decode"] = model.decode(x)
        c, size = model.autoencoder.config["in_channels"], model.autoencoder.config["image_size"]
        out["encode"] = model.encode(_randn((BATCH, c, size, size), seed + 3).clamp(-1, 1))
    return out


def _network_case(net, seed: int) -> dict:
    if hasattr(net, "encode_text"):                      # the CLIP
        x = _randn((BATCH, 1, 28, 28), seed).clamp(-1, 1)
        t = net.process.net_time(_times(net.process))
        tokens = net.tokenizer.encode(list(PROMPTS))
        return {"image_clean": net.encode_image(x), "image_noisy": net.encode_image(x, t),
                "text": net.encode_text(tokens), "logit_scale": net.logit_scale.detach().reshape(1),
                "logits": net(x, tokens, t)}
    cfg = net.config
    if hasattr(net, "encode") and hasattr(net, "decode"):  # the autoencoder
        x = _randn((BATCH, cfg["in_channels"], cfg["image_size"], cfg["image_size"]), seed).clamp(-1, 1)
        mean, logvar = net.encode(x)
        return {"mean": mean, "logvar": logvar, "decode": net.decode(_randn(mean.shape, seed + 1))}
    shape = (3, 32, 32) if type(net).__name__.startswith("Cifar") else (1, 28, 28)
    x = _randn((BATCH, *shape), seed).clamp(-1, 1)
    if getattr(net, "process", None) is not None:        # a noisy classifier: x_t at its process's times
        return {"logits": net(x, net.process.net_time(_times(net.process)))}
    return {"logits": net(x)}


def _seed(name: str) -> int:
    return sum(name.encode()) % 1000 + 1                 # fixed per case, different between cases


@torch.no_grad()
def compute(name: str) -> dict:
    """The case's quantities, {key: tensor}."""
    import diffedu

    if name.startswith(ADAPTER):
        from diffedu import adapt

        adapter = name[len(ADAPTER):]
        word = ADAPTER_WORDS[adapter]
        model = adapt.attach(adapter, diffedu.pretrained("mnist-text-unet"))
        prompts = (f"a {word} two", f"a {word} five", "the digit seven")
        return _diffusion(model, _seed(name), prompts)
    obj = diffedu.pretrained(name)
    if isinstance(obj, torch.nn.Module):
        return _network_case(obj, _seed(name))
    prompts = DREAMBOOTH_PROMPTS if "[v]" in _network(obj).config.get("vocab", ()) else PROMPTS
    return _diffusion(obj, _seed(name), prompts)


def summarise(v: torch.Tensor) -> dict:
    v = v.detach().cpu()
    flat = v.double().flatten()
    n = flat.numel()
    idx = sorted({(n - 1) * k // (N_VALUES - 1) for k in range(N_VALUES)})
    return {"shape": list(v.shape), "dtype": str(v.dtype).replace("torch.", ""), "mean": float(flat.mean()),
            "std": float(flat.std(correction=0)), "mean_abs": float(flat.abs().mean()), "index": idx,
            "values": [float(flat[i]) for i in idx]}


def case_names() -> list[str]:
    import diffedu
    from diffedu import adapt

    return sorted(diffedu.shipped()) + [ADAPTER + a for a in sorted(adapt.shipped_adapters())]


# --- the tests ---------------------------------------------------------------------------------------------
def _golden() -> dict:
    return json.loads(GOLDEN.read_text())["cases"] if GOLDEN.exists() else {}


def _params() -> list[str]:
    try:
        names = case_names()
    except Exception:   # noqa: BLE001 — collection must not die; the coverage test reports it
        names = []
    return sorted(set(names) | set(_golden()))


@pytest.fixture(autouse=True)
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def test_every_shipped_checkpoint_and_adapter_has_golden_values():
    have, shipped = set(_golden()), set(case_names())
    assert not shipped - have, (f"no golden values for {sorted(shipped - have)}: add them on purpose with "
                                "`python tests/test_golden.py --regen`")
    assert not have - shipped, f"golden values for what is no longer shipped: {sorted(have - shipped)}"


@pytest.mark.parametrize("name", _params())
def test_a_shipped_model_computes_what_it_did(name):
    want = _golden().get(name)
    if want is None:
        pytest.fail(f"{name}: no golden values stored (run `python tests/test_golden.py --regen` on purpose)")
    got = {k: summarise(v) for k, v in compute(name).items()}
    assert sorted(got) == sorted(want), f"{name}: computes {sorted(got)}, the golden values hold {sorted(want)}"
    bad = []
    for key in sorted(want):
        g, w = got[key], want[key]
        if g["shape"] != w["shape"] or g["index"] != w["index"]:
            bad.append(f"{key}: shape {g['shape']}, stored {w['shape']}")
            continue
        a = torch.tensor([g["mean"], g["std"], g["mean_abs"], *g["values"]], dtype=torch.float64)
        b = torch.tensor([w["mean"], w["std"], w["mean_abs"], *w["values"]], dtype=torch.float64)
        atol = ATOL * max(1.0, w["mean_abs"])
        if not torch.allclose(a, b, rtol=RTOL, atol=atol) or g["dtype"] != w["dtype"]:
            err = float(((a - b).abs() / (atol + RTOL * b.abs())).max())
            bad.append(f"{key}: mean/std/mean|x| {a[:3].tolist()} vs stored {b[:3].tolist()}; values "
                       f"{[round(v, 6) for v in g['values']]} vs {[round(v, 6) for v in w['values']]} "
                       f"(worst {err:.3g}× the tolerance), dtype {g['dtype']} vs {w['dtype']}")
    assert not bad, f"{name} computes something else than at {GOLDEN.name}'s commit:\n  " + "\n  ".join(bad)


# --- regeneration (on purpose only) ------------------------------------------------------------------------
def regenerate(path: Path = GOLDEN) -> dict:
    import subprocess

    import diffedu

    torch.set_num_threads(1)
    cases = {name: {k: summarise(v) for k, v in compute(name).items()} for name in case_names()}
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=Path(diffedu.__file__).parent,
                                capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    doc = {"about": "tests/test_golden.py: summaries of what each shipped checkpoint and adapter computes",
           "commit": commit, "torch": torch.__version__, "cases": cases}
    lines = [json.dumps({k: v for k, v in doc.items() if k != "cases"}, indent=1)[:-2] + ',\n "cases": {']
    for i, (name, case) in enumerate(cases.items()):     # one line per tensor: diffs name what changed
        keys = [f'   {json.dumps(k)}: {json.dumps(v)}' for k, v in case.items()]
        lines.append(f'  {json.dumps(name)}: {{\n' + ",\n".join(keys) + "\n  }" + ("," if i < len(cases) - 1 else ""))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n }\n}\n")
    assert json.loads(path.read_text()) == json.loads(json.dumps(doc))
    return doc


if __name__ == "__main__":
    if sys.argv[1:] != ["--regen"]:
        sys.exit("usage: python tests/test_golden.py --regen   (rewrites tests/golden/shipped.json: on purpose only)")
    doc = regenerate()
    import diffedu

    print(f"wrote {GOLDEN}: {len(doc['cases'])} cases from {Path(diffedu.__file__).parent} (commit {doc['commit']})")
