"""A short training run really learns; checkpoints round-trip through safetensors + JSON."""
import pytest
import torch

import diffedu as de
from diffedu import checkpoint, metrics, schedules, toy
from diffedu.train_state import load_training, save_training


@pytest.fixture(scope="module")
def trained():
    mix, s = toy.ring(), schedules.linear(1000)
    data = mix.sample(20000, torch.Generator().manual_seed(0))
    res = de.train(de.MLPDenoiser(), lambda m, b, g: de.diffusion_loss(m, b, s, generator=g),
                   de.tensor_batches(data, 256), steps=2500, progress=False, seed=0)
    return mix, s, res


def test_loss_goes_down_and_samples_beat_a_fixed_distance(trained):
    mix, s, res = trained
    first, last = sum(res.losses[:50]) / 50, sum(res.losses[-200:]) / 200
    assert last < 0.5 * first, (first, last)
    g = torch.Generator().manual_seed(1)
    model = de.DiffusionModel(res.ema, de.DiscreteVP.of(s))
    x = de.ddpm_sample(model, torch.randn(3000, 2, generator=g), generator=g)
    d = metrics.sliced_wasserstein(x, mix.sample(3000, g))
    untrained = de.ddpm_sample(de.DiffusionModel(de.MLPDenoiser().eval(), de.DiscreteVP.of(s)),
                               torch.randn(3000, 2, generator=g), generator=g)
    floor, _ = metrics.noise_floor(mix.sample, 3000)
    assert d < 2.5 * floor, (d, floor)
    assert metrics.sliced_wasserstein(untrained, mix.sample(3000, g)) > 3 * d


def test_checkpoint_round_trip(trained, tmp_path):
    _, s, res = trained
    path = checkpoint.save(tmp_path / "ring", res.ema, meta={"steps": 2500})
    model = checkpoint.load(path, device="cpu")
    x, t = torch.randn(16, 2), torch.randint(1, 1001, (16,))
    with torch.no_grad():
        assert torch.allclose(model(x, t), res.ema.cpu()(x, t), atol=1e-6)
    assert model.meta == {"steps": 2500}
    assert not list(tmp_path.glob(".*tmp*"))  # atomic writes leave no temporary files


def test_checkpoint_with_wrong_shape_or_missing_tensor_is_refused(tmp_path):
    import json

    from safetensors.torch import save_file

    net = de.MLPDenoiser(hidden=32)
    path = checkpoint.save(tmp_path / "m", net)
    header, tensors = checkpoint.read(path)

    def rewrite(tensors):  # a consistent file (valid sha256) whose tensors do not fit the network
        header["sha256"] = checkpoint.tensor_digest(tensors)
        save_file(tensors, str(path), metadata={"diffedu": json.dumps(header)})

    tensors["out.weight"] = torch.zeros(3, 32)
    rewrite(tensors)
    with pytest.raises(ValueError, match="out.weight"):
        checkpoint.load(path)
    del tensors["out.weight"]
    rewrite(tensors)
    with pytest.raises(ValueError, match="missing tensors.*out.weight"):
        checkpoint.load(path)


class _Crash(Exception):
    pass


def test_a_run_resumed_after_a_crash_repeats_the_uninterrupted_run_exactly(tmp_path):
    """Weights, EMA and AdamW moments survive the checkpoint, and batches, noise and dropout masks follow from
    (seed, step): the resumed run ends bit for bit where the uninterrupted one does."""
    from diffedu.models import UNet

    s = schedules.cosine(1000)
    data = torch.randn(64, 1, 8, 8).clamp(-1, 1)
    labels = torch.arange(64) % 10

    def run(steps=8, result=None, start=0, on_step=None):
        if result is None:
            torch.manual_seed(5)
            model = UNet(image_size=8, base_channels=8, channel_mults=(1, 2), attn_resolutions=(4,), groups=4,
                         num_classes=10, dropout=0.3)
        else:
            model = result.model
        return de.train(model, lambda m, b, g: de.diffusion_loss(m, b[0], s, generator=g, y=b[1]),
                        de.tensor_batches(data, 16, labels), steps=steps, progress=False, warmup=2,
                        ema_decay=0.9, result=result, start_step=start, on_step=on_step)

    def crash_at_5(step, res):
        if step == 5:
            save_training(tmp_path / "state", res, step)
            raise _Crash

    full = run()
    with pytest.raises(_Crash):
        run(on_step=crash_at_5)
    res, start = load_training(tmp_path / "state")
    assert start == 5 and len(res.losses) == 5
    resumed = run(result=res, start=start)
    assert resumed.losses == full.losses
    for a, b in [(resumed.model, full.model), (resumed.ema, full.ema)]:
        for (name, p), q in zip(a.state_dict().items(), b.state_dict().values()):
            assert torch.equal(p, q), name


def test_on_step_sees_every_loss_so_far_at_its_cadence():
    x0 = torch.randn(32, 2)
    seen, times = [], []

    def on_step(k, r):
        seen.append((k, len(r.losses)))
        times.append(r.seconds)

    de.train(de.MLPDenoiser(), lambda m, b, g: de.diffusion_loss(m, b, schedules.linear(100), generator=g),
             lambda g: x0, steps=7, progress=False, on_step=on_step, on_step_every=3)
    assert seen == [(3, 3), (6, 6), (7, 7)]
    assert times == sorted(times) and times[0] > 0  # a periodic checkpoint records the time spent so far


def test_a_non_finite_loss_is_reported_with_its_step():
    x0 = torch.randn(32, 2)
    m = de.MLPDenoiser()

    def loss_fn(model, batch, g, calls=[0]):
        calls[0] += 1
        loss = de.diffusion_loss(model, batch, schedules.linear(100), generator=g)
        return loss * float("nan") if calls[0] == 4 else loss

    with pytest.raises(FloatingPointError, match="at step 3"):
        de.train(m, loss_fn, lambda g: x0, steps=10, progress=False)
    with pytest.raises(ValueError, match="compile_mode"):
        de.train(m, loss_fn, lambda g: x0, steps=1, compile_mode="fast")


def test_loss_variants_and_bad_input():
    s = schedules.linear(100)
    x0 = torch.randn(32, 2)
    m = de.MLPDenoiser()
    for p in ("eps", "x0", "v"):
        for w in ("simple", "elbo"):
            assert torch.isfinite(de.diffusion_loss(m, x0, s, prediction=p, weighting=w))
    with pytest.raises(ValueError, match="prediction"):
        de.diffusion_loss(m, x0, s, prediction="velocity")  # a discrete process has no velocity
    with pytest.raises(ValueError, match="prediction"):
        de.diffusion_loss(m, x0, s, prediction="noise")
    with pytest.raises(ValueError, match="weighting"):
        de.diffusion_loss(m, x0, s, weighting="snr")
    with pytest.raises(ValueError, match="steps"):
        de.train(m, lambda *a: 0, lambda g: x0, steps=0)


def test_elbo_weight_is_the_lectures_formula():
    s = schedules.linear(1000)
    w = de.losses.elbo_weight(s)
    t = 300
    b, a, ab = s.betas[t], s.alphas[t], s.alpha_bars[t]
    assert torch.isclose(w[t], (1 - a) ** 2 / (2 * b * a * (1 - ab)))
    # the exact ε gives a lower ELBO term than a wrong one


def test_float64_samplers_drive_a_float32_network():
    f = de.DiffusionModel(de.MLPDenoiser().eval(), de.DiscreteVP("linear", 20))
    out = f.eps(torch.randn(4, 2, dtype=torch.float64), torch.full((4,), 5))
    assert out.dtype == torch.float64
    assert de.ddim_sample(f, torch.randn(4, 2, dtype=torch.float64), 4).dtype == torch.float64


def test_frechet_distance_matches_the_closed_form_for_gaussians():
    g = torch.Generator().manual_seed(0)
    n, d = 20000, 3
    a = torch.randn(n, d, generator=g, dtype=torch.float64)
    b = 2.0 * torch.randn(n, d, generator=g, dtype=torch.float64) + 1.0
    # N(0, I) vs N(1, 4I): |μ|² = d, trace term d(1 + 4 − 2·2) = d  → 2d
    assert abs(metrics.frechet_distance(a, b) - 2 * d) < 0.15
    assert metrics.frechet_distance(a, a) < 1e-6
    with pytest.raises(ValueError, match="feature sets"):
        metrics.frechet_distance(a, b[:, :2])


def test_min_snr_weighting_is_the_same_objective_in_eps_and_v_units():
    """Hang et al.: w_ε = min(SNR, γ)/SNR on ‖ε̂ − ε‖² equals w_v = min(SNR, γ)/(SNR + 1) on ‖v̂ − v‖² for a
    VP process (ε̂ − ε = α (v̂ − v)): the same loss whichever the network predicts."""
    proc = de.DiscreteVP("cosine", 1000)
    torch.manual_seed(0)
    x0 = torch.randn(16, 2, dtype=torch.float64)
    t = torch.randint(1, 1001, (16,))
    v_hat = torch.randn(16, 2, dtype=torch.float64)
    a, s = (de.processes.column(c, x0) for c in proc.alpha_sigma(t))

    def loss(prediction, make_pred):
        g = torch.Generator().manual_seed(3)
        return de.diffusion_loss(lambda xt, tt: make_pred(xt), x0, proc, prediction=prediction, weighting="min-snr",
                                 t=t, generator=g)

    lv = loss("v", lambda xt: v_hat)
    le = loss("eps", lambda xt: s * xt + a * v_hat)  # the ε̂ that this v̂ means at x_t
    assert torch.allclose(lv, le, rtol=1e-10)
    with pytest.raises(ValueError, match="min-snr"):
        de.diffusion_loss(de.MLPDenoiser(), x0.float(), de.VPSDE(), prediction="velocity", weighting="min-snr")
