"""The model contract: one object per trained model carries its process and parameterisation; every
sampler takes it; conversions between parameterisations round-trip for every process family."""
import ast
import json
import pathlib
import re

import pytest
import torch

import diffedu as de
from diffedu import processes as P
from diffedu.fewstep import ConsistencyModel
from diffedu.samplers import consistency_sample
from diffedu.model import PREDICTIONS, FunctionModel, takes_guidance
from diffedu.samplers import (annealed_langevin, ddim_sample, ddpm_sample, langevin, probability_flow_ode,
                              reverse_sde_sample)

CONTINUOUS = [P.VPSDE(), P.CosineVP(), P.VESDE(0.01, 50.0), P.VE(0.01, 80.0), P.Linear()]
TIMES = {"VPSDE": 0.37, "CosineVP": 0.61, "VESDE": 0.45, "VE": 1.7, "Linear": 0.3}


def _truth(process, t, shape=(6, 3)):
    g = torch.Generator().manual_seed(0)
    x0, eps = (torch.randn(shape, generator=g, dtype=torch.float64) for _ in range(2))
    tt = process.time_tensor(t, shape[0], "cpu")
    a, s = (P.column(v, x0) for v in process.alpha_sigma(tt))
    x = a * x0 + s * eps
    want = {"eps": eps, "x0": x0, "v": a * eps - s * x0, "score": -eps / s}
    if not process.discrete:
        da, ds = (P.column(v, x0) for v in process.d_alpha_sigma(tt))
        want["velocity"] = da * x0 + ds * eps
    return x, tt, want


@pytest.mark.parametrize("process", [P.DiscreteVP("cosine", 1000), P.DiscreteVP("linear", 100)] + CONTINUOUS,
                         ids=lambda p: p.spec()["kind"] + str(p.spec().get("schedule", "")))
def test_every_parameterisation_answers_every_other(process):
    t = 437 if process.discrete else TIMES[process.spec()["kind"]]
    if process.discrete:
        t = min(t, process.T - 3)
    x, tt, want = _truth(process, t)
    for kind, out in want.items():  # a model that outputs the exact target of its own parameterisation
        m = FunctionModel(lambda xx, t, out=out: out, process, kind)
        got = {"eps": m.eps(x, tt), "x0": m.x0(x, tt), "v": m.v(x, tt), "score": m.score(x, tt)}
        if not process.discrete:
            got["velocity"] = m.velocity(x, tt)
        for name, value in got.items():
            assert torch.allclose(value, want[name], atol=1e-9, rtol=1e-9), (kind, name)


def test_discrete_process_has_no_velocity_and_score_is_undefined_at_the_data():
    x, tt, want = _truth(P.DiscreteVP("linear", 100), 50)
    m = FunctionModel(lambda xx, t: want["eps"], P.DiscreteVP("linear", 100), "eps")
    with pytest.raises(ValueError, match="continuous process"):
        m.velocity(x, tt)
    with pytest.raises(ValueError, match="σ_t = 0"):
        m.score(x, 0)


@pytest.mark.parametrize("process", CONTINUOUS, ids=lambda p: p.spec()["kind"])
def test_sde_coefficients_reproduce_the_marginal_variance(process):
    """d(σ²)/dt = 2 f σ² + g² for the SDE dx = f x dt + g dw with unit-variance data α² + σ²: check
    Var_t = α_t² + σ_t² by integrating dVar/dt = 2 f Var + g² along t."""
    t0, t1 = (0.05, 0.9) if process.spec()["kind"] != "VE" else (0.1, 5.0)
    ts = torch.linspace(t0, t1, 20001, dtype=torch.float64)
    a, s = process.alpha_sigma(ts)
    var = float(a[0] ** 2 + s[0] ** 2)
    for u, w in zip(ts[:-1], ts[1:]):
        f, g2 = process.drift_diffusion(0.5 * (u + w))
        var += float(2 * f * var + g2) * float(w - u)
    assert var == pytest.approx(float(a[-1] ** 2 + s[-1] ** 2), rel=1e-4)


def test_vpsde_is_the_limit_of_ddpms_linear_schedule():
    a, _ = P.VPSDE().alpha_sigma(torch.tensor([0.25, 0.5, 1.0]))
    ab = P.DiscreteVP("linear", 1000).sched.alpha_bars[[250, 500, 1000]]
    assert torch.allclose(torch.log(a**2), torch.log(ab), atol=0.1)  # ᾱ_T = 4.04e-5 vs e^{-10.05} = 4.36e-5


def test_process_spec_round_trips_and_compares():
    for p in [P.DiscreteVP("cosine", 500), P.DiscreteVP("linear", 100, {"beta_end": 0.03})] + CONTINUOUS:
        assert P.from_spec(p.spec()) == p
    assert P.DiscreteVP("cosine", 1000) != P.DiscreteVP("linear", 1000)
    assert P.DiscreteVP.of(de.schedules.cosine(1000)) == P.DiscreteVP("cosine", 1000)
    with pytest.raises(ValueError, match="kind"):
        P.from_spec({"kind": "Magic"})


CALLBACK_KEYS = {"i", "t", "t_next", "x", "x0_hat", "nfe", "last"}


def _run_all(model, x):
    g = torch.Generator().manual_seed(0)
    runs = {}
    for name, call in {
        "ddpm": lambda cb: ddpm_sample(model, x, model.process.grid(10), generator=g, callback=cb),
        "ddim": lambda cb: ddim_sample(model, x, 10, eta=0.5, generator=g, callback=cb),
        "ode-euler": lambda cb: probability_flow_ode(model, x, model.process.grid(10), method="euler", callback=cb),
        "ode-heun": lambda cb: probability_flow_ode(model, x, model.process.grid(10), callback=cb),
        "sde": lambda cb: reverse_sde_sample(model, x, model.process.grid(10), corrector_steps=1, generator=g,
                                             callback=cb),
        "langevin": lambda cb: langevin(model, x, model.process.grid(10)[-2].item(), step_size=1e-3, n_steps=5,
                                        generator=g, callback=cb),
        "annealed": lambda cb: annealed_langevin(model, x, model.process.grid(4), step_size=1e-3,
                                                 steps_per_level=3, generator=g, callback=cb),
    }.items():
        seen = []
        out = call(seen.append)
        runs[name] = (out, seen)
    return runs


@pytest.mark.parametrize("process", [P.VE(0.02, 3.0), P.VPSDE(), P.Linear(t_max=0.999)],
                         ids=lambda p: p.spec()["kind"])
def test_every_sampler_takes_the_same_model_and_reports_the_same_keys(process):
    model = de.toy.ring().model(process)
    x = process.prior((64, 2), torch.Generator().manual_seed(1), torch.float64)
    for name, (out, seen) in _run_all(model, x).items():
        assert out.shape == x.shape and torch.isfinite(out).all(), name
        assert seen and all(set(d) == CALLBACK_KEYS for d in seen), (name, set(seen[0]))
        assert seen[-1]["last"] and not any(d["last"] for d in seen[:-1]), name
        assert [d["i"] for d in seen] == list(range(len(seen))), name
        assert all(d["t_next"] <= d["t"] for d in seen), name  # t decreases (Langevin: stays)


def test_the_discrete_samplers_take_the_shipped_network_with_no_schedule_passed():
    for name in ("ring8-mlp", "mnist-unet"):
        m = de.pretrained(name)
        shape = (4, 2) if name.startswith("ring") else (4, 1, 28, 28)
        x = torch.randn(shape, generator=torch.Generator().manual_seed(0))
        mm = m.given(torch.arange(4), 2.0) if m.num_classes else m
        seen = []
        out = ddim_sample(mm, x, 4, clip_x0=1.0 if m.num_classes else None, callback=seen.append)
        assert out.shape == x.shape and set(seen[0]) == CALLBACK_KEYS
        out = ddpm_sample(mm, x, 4, generator=torch.Generator().manual_seed(0))
        assert torch.isfinite(out).all()


@pytest.mark.parametrize("name", de.shipped())
def test_every_shipped_checkpoint_loads_by_name_and_is_ready(name):
    m = de.pretrained(name)
    assert m.meta.get("recipe") == name
    if isinstance(m, ConsistencyModel):  # f_θ around a diffusion model (lesson 12): one and two steps
        x = m.process.prior((2, 1, 28, 28), torch.Generator().manual_seed(0))
        for k in (1, 2):
            assert torch.isfinite(consistency_sample(m.given(torch.tensor([3, 7])), x, k)).all()
        assert torch.equal(m.given(torch.tensor([3, 7])).x0(x, m.t_min), x)
    elif isinstance(m, de.DiffusionModel):
        assert m.prediction in PREDICTIONS and isinstance(m.process, P.Process)
        c = m.net.config  # 2-D points, or images (clips, sounds) of the network's own shape
        shape = (8, 2) if c.get("dim") == 2 else (2, *m.sample_shape)
        x = m.process.prior(shape, torch.Generator().manual_seed(0))
        if "cond_channels" in c:  # a cascade's super-resolution stage: bound to low-resolution images first
            from diffedu.cascade import SuperResolution
            m = SuperResolution(m, torch.zeros(2, c["cond_channels"], c["image_size"] // 2, c["image_size"] // 2), 0.1)
        if takes_guidance(m):  # a guidance-distilled student takes w: bound to labels and a scale first
            m = m.given(torch.tensor([3, 7]), 3.0)
        sampler = annealed_langevin if isinstance(m.process, P.VE) else ddim_sample
        kw = dict(step_size=1e-4, steps_per_level=2) if sampler is annealed_langevin else {}
        assert torch.isfinite(sampler(m, x, 3, **kw)).all()
    else:
        assert isinstance(m, torch.nn.Module) and not m.training


def test_guidance_needs_the_classifier_of_the_same_process():
    from diffedu.guidance import classifier_guided

    unet, clf = de.pretrained("mnist-unet"), de.pretrained("mnist-noisy-classifier")
    classifier_guided(unet, clf, 3, 1.0)  # same process: fine
    other = unet.with_process(P.DiscreteVP("linear", 1000))
    with pytest.raises(ValueError, match="same process"):
        classifier_guided(other, clf, 3, 1.0)


def test_cfg_at_w0_and_w1_is_exactly_the_unconditional_and_conditional_model():
    unet = de.pretrained("mnist-unet")
    x, t = torch.randn(3, 1, 28, 28), torch.tensor([100, 500, 900])
    y = torch.tensor([1, 2, 3])
    with torch.no_grad():
        cond, uncond = unet.net(x, t, y), unet.net(x, t, torch.full((3,), 10))
        assert torch.equal(unet.given(y, 1.0).eps(x, t), cond)
        assert torch.equal(unet.given(y, 0.0).eps(x, t), uncond)
        assert torch.allclose(unet.given(y, 3.0).eps(x, t), uncond + 3 * (cond - uncond), atol=1e-5)
    for bad in (10, -1, 2.7):
        with pytest.raises(ValueError, match="cond must be"):
            unet.given(bad, 1.0).eps(x, t)


def test_samplers_import_only_the_process_and_helper_modules():
    allowed = {"_checks", "_random", "processes", "common", "ddim", "ddpm", "langevin", "continuous", "consistency"}
    root = pathlib.Path(de.__file__).parent / "samplers"
    for f in root.glob("*.py"):
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level > 0:
                mods = [node.module] if node.module else [a.name for a in node.names]
                for mod in mods:
                    assert mod.split(".")[-1] in allowed, f"{f.name} imports {mod}"


BEFORE_COMMANDS_WERE_RECORDED = {"ring8-mlp", "ring8-ncsn", "mnist-classifier", "mnist-noisy-classifier"}  # diffedu 0.1


def test_every_shipped_file_has_its_model_card_entry_with_the_command_that_trained_it():
    from diffedu.adapt import shipped_adapters
    from diffedu.pretrained import ASSETS

    card = (ASSETS / "MODEL_CARD.md").read_text()
    rows = {name: line for line in card.splitlines() if line.startswith("| `")   # a row may name several
            for name in re.findall(r"`([^`]+)`", line.split("|")[1])}
    for name in de.shipped():
        assert name in rows, f"{name}: no row in diffedu/assets/MODEL_CARD.md"
        assert f"python -m diffedu.recipes {name}" in rows[name], f"{name}: its row does not give the recipe command"
        meta = de.pretrained(name).meta  # the file's own record: its command (or, continued runs, their history)
        recorded = json.dumps({k: meta[k] for k in ("command", "history") if k in meta}, ensure_ascii=False)
        if name not in BEFORE_COMMANDS_WERE_RECORDED:
            assert f"python -m diffedu.recipes {name}" in recorded, f"{name}: the file does not record its command"
    for name in shipped_adapters():
        assert f"`{name}`" in card, f"adapter {name}: not described in the model card"
