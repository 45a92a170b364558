"""Score matching, Langevin and the SDE/ODE samplers, all checked against exact answers."""

import pytest
import torch

import diffedu as de
from diffedu import forward, metrics, toy
from diffedu import processes as S
from diffedu.model import DiffusionModel, FunctionModel
from diffedu.models import ScoreMLP
from diffedu.models.score_mlp import c_noise
from diffedu.processes import VE, DiscreteVP
from diffedu.samplers import annealed_langevin, ddim_sample, langevin, probability_flow_ode, reverse_sde_sample
from diffedu.score import check_sigmas, dsm_loss, eps_from_score_ve, geometric_sigmas, ncsn_loss, score_from_eps_ve


def _mode_fraction(mix, x, k=0):
    return float(mix.mode_fractions(x.double())[k])


def _score_model(fn, process=VE()):
    """A model whose score is ``fn(x, t)`` (an exact score written by hand)."""
    return FunctionModel(fn, process, "score")


def test_ve_and_sde_scores_equal_autograd_of_the_log_density():
    mix = toy.grid()
    x = 2 * torch.randn(50, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    for sigma in (0.05, 0.5, 3.0):
        xr = x.clone().requires_grad_(True)
        (g,) = torch.autograd.grad(mix.log_prob(xr, 1.0, sigma).sum(), xr)
        assert torch.allclose(mix.model(VE()).score(x, sigma), g, atol=1e-9)  # VE: time is σ
    for sde in (S.VESDE(), S.VPSDE()):
        t = torch.rand(50, dtype=torch.float64, generator=torch.Generator().manual_seed(1)) * 0.9 + 0.05
        a, b = sde.alpha_sigma(t)
        xr = x.clone().requires_grad_(True)
        (g,) = torch.autograd.grad(mix.log_prob(xr, a, b).sum(), xr)
        assert torch.allclose(mix.model(sde).score(x, t), g, atol=1e-9)


def test_dsm_on_a_single_gaussian_learns_its_known_score():
    """Data N(μ, s²I); DSM at σ must learn the noisy score −(x − μ)/(s² + σ²). A linear model can
    represent it exactly, so the fitted coefficients are the test."""
    mu, s, sigma = torch.tensor([1.0, -2.0]), 0.5, 0.7
    data = mu + s * torch.randn(20000, 2, generator=torch.Generator().manual_seed(0))
    lin = torch.nn.Linear(2, 2)
    res = de.train(lin, lambda m, b, g: dsm_loss(lambda x, sig: m(x), b, sigma, generator=g),
                   de.tensor_batches(data, 512), steps=1500, lr=2e-2, progress=False, warmup=10)
    W, b = res.ema.weight.detach(), res.ema.bias.detach()
    v = s**2 + sigma**2
    assert torch.allclose(W, -torch.eye(2) / v, atol=0.05), W
    assert torch.allclose(b, mu / v, atol=0.05), b


def test_ncsn_training_reduces_the_loss_and_the_model_output_is_scaled():
    sig = geometric_sigmas(3.0, 0.05, 6)
    data = toy.ring().sample(5000, torch.Generator().manual_seed(0))
    res = de.train(ScoreMLP(hidden=64), lambda m, b, g: ncsn_loss(m, b, sig, generator=g),
                   de.tensor_batches(data, 256), steps=400, progress=False)
    assert sum(res.losses[-50:]) / 50 < 0.8 * sum(res.losses[:20]) / 20
    x = torch.randn(8, 2)
    with torch.no_grad():  # s_θ = −net/σ: halving σ doubles the output for the same network output
        m = res.ema
        assert torch.allclose(m(x, torch.full((8,), 0.5)) * 0.5, -m.net(x, c_noise(torch.full((8,), 0.5))))


def test_langevin_with_exact_gaussian_score_reaches_its_mean_and_covariance():
    mu = torch.tensor([1.0, -1.0], dtype=torch.float64)
    cov = torch.tensor([[1.0, 0.6], [0.6, 0.8]], dtype=torch.float64)
    prec = torch.linalg.inv(cov)
    g = torch.Generator().manual_seed(0)
    x = langevin(_score_model(lambda x, t: -(x - mu) @ prec), torch.zeros(8000, 2, dtype=torch.float64), 0.0,
                 step_size=0.01, n_steps=1500, generator=g)
    assert torch.allclose(x.mean(0), mu, atol=0.05)
    assert torch.allclose(torch.cov(x.T), cov, atol=0.06)


def test_annealed_langevin_recovers_mode_weights_where_plain_langevin_does_not():
    """The lecture's claim, measured: weights 0.8 / 0.2, particles started uniformly over a wide box."""
    mix = toy.unbalanced(weight=0.8)
    g = torch.Generator().manual_seed(0)
    x0 = (torch.rand(3000, 2, generator=g, dtype=torch.float64) - 0.5) * 16
    ve = VE(sigma_min=0.01, sigma_max=10.0)
    exact = mix.model(ve)
    plain = langevin(exact, x0, 0.0, step_size=0.01, n_steps=600, generator=g)  # t = σ = 0: the data's p
    # Song & Ermon's ε = 2e-5; a fine ladder, because particles freeze into a mode at the σ where the
    # barrier rises, and the weights they carry are those of p_σ there (slightly below 0.8)
    annealed = annealed_langevin(exact, x0, ve.ladder(20), step_size=2e-5, steps_per_level=30, generator=g)
    assert abs(_mode_fraction(mix, annealed) - 0.8) < 0.04
    assert abs(_mode_fraction(mix, plain) - 0.8) > 0.2


@pytest.mark.parametrize("sampler", ["em", "pc", "ode_euler", "ode_heun"])
def test_reverse_sde_and_pf_ode_with_exact_scores_reproduce_the_mixture(sampler):
    mix, sde, n = toy.ring(), S.VPSDE(), 3000
    g = torch.Generator().manual_seed(2)
    exact = mix.model(sde)
    xT = sde.prior((n, 2), g, torch.float64)
    if sampler == "em":
        x = reverse_sde_sample(exact, xT, sde.grid(500), generator=g)
    elif sampler == "pc":
        x = reverse_sde_sample(exact, xT, sde.grid(200), corrector_steps=1, generator=g)
    else:
        x = probability_flow_ode(exact, xT, sde.grid(200), method=sampler[4:])
    floor, sd = metrics.noise_floor(mix.sample, n, repeats=8)
    assert metrics.sliced_wasserstein(x, mix.sample(n, g)) < floor + 2 * sd


def test_pf_ode_round_trip_data_to_noise_to_data():
    mix, sde = toy.ring(), S.VPSDE()
    exact = mix.model(sde)
    x0 = mix.sample(500, torch.Generator().manual_seed(0), dtype=torch.float64)
    ts = sde.grid(400)
    z = probability_flow_ode(exact, x0, ts.flip(0), method="heun")       # encode: t_min → 1
    back = probability_flow_ode(exact, z, ts, method="heun")             # decode: 1 → t_min
    assert z.std() > 0.8  # the code really is noise-like
    assert (back - x0).norm(dim=1).median() < 1e-2


def test_eps_score_conversions_agree():
    e = torch.randn(10, 2, dtype=torch.float64)
    assert torch.allclose(eps_from_score_ve(score_from_eps_ve(e, 0.3), 0.3), e)
    mix, ddpm, sde = toy.ring(), DiscreteVP("linear", 1000), S.VPSDE()
    x = torch.randn(64, 2, dtype=torch.float64)
    t = torch.randint(1, 1001, (64,))
    exact = mix.model(ddpm)
    assert torch.allclose(forward.score_from_eps(x, t, exact.eps(x, t), ddpm.sched), exact.score(x, t))

    class ExactEps(torch.nn.Module):
        """A "network" on DDPM's step positions that returns the exact ε of the continuous VP marginal."""

        def forward(self, x, pos):
            a, b = sde.alpha_sigma(pos / 1000)
            return -b[:, None] * mix.score(x, a, b)

    # trained on DDPM's steps, read on the VP SDE's continuous t (its network sees the step 1000·t)
    on_vp = DiffusionModel(ExactEps(), ddpm, "eps").with_process(sde)
    tc = torch.rand(64, dtype=torch.float64) * 0.9 + 0.05
    assert torch.allclose(on_vp.score(x, tc), mix.model(sde).score(x, tc))


def test_ddim_step_is_an_euler_step_of_the_probability_flow_ode():
    """In VE coordinates y = x/√ᾱ, σ = √((1−ᾱ)/ᾱ), the PF-ODE is dy/dσ = ε(y); one DDIM step is exactly
    y_s = y_t + (σ_s − σ_t)·ε: Euler's method in σ."""
    mix, p = toy.ring(), DiscreteVP("cosine", 1000)
    sched = p.sched
    x = torch.randn(32, 2, dtype=torch.float64)
    t, s = 700, 400
    eps = mix.model(p).eps(x, t)
    frozen = FunctionModel(lambda xx, tt: eps if tt[0] == t else torch.zeros_like(xx), p, "eps")
    ddim = ddim_sample(frozen, x, [t, s, 0])
    # the sampler runs t → s → 0; its state at s is what one step of Euler in σ gives:
    ab_t, ab_s = sched.alpha_bars[t], sched.alpha_bars[s]
    y_t, sig_t, sig_s = x / ab_t.sqrt(), sched.sigmas[t], sched.sigmas[s]
    x_s = (y_t + (sig_s - sig_t) * eps) * ab_s.sqrt()
    steps = []
    ddim_sample(frozen, x, [t, s, 0], callback=lambda d: steps.append(d["x"]))
    assert torch.allclose(steps[0], x_s, atol=1e-12)
    assert torch.allclose(ddim_sample(frozen, x, [t, s]), x_s, atol=1e-12)  # a grid may stop at s
    assert ddim.shape == x.shape


def _zero_score(process=VE()):
    return _score_model(lambda x, t: torch.zeros_like(x), process)


@pytest.mark.parametrize("call, word", [
    (lambda: langevin(_zero_score(), torch.zeros(2, 2), 0.0, step_size=-0.1, n_steps=5), "step_size"),
    (lambda: langevin(_zero_score(), torch.zeros(2, 2), 0.0, step_size=0.1, n_steps=0), "n_steps"),
    (lambda: langevin(_zero_score(), torch.zeros(2, 2), -1.0, step_size=0.1, n_steps=5), ">= 0"),
    (lambda: geometric_sigmas(0.1, 1.0, 5), "sigma_min must be < sigma_max"),
    (lambda: geometric_sigmas(1.0, 1.0, 5), "sigma_min must be < sigma_max"),
    (lambda: check_sigmas([]), "empty"),
    (lambda: annealed_langevin(_zero_score(), torch.zeros(2, 2), []), "at least 1 time"),
    (lambda: annealed_langevin(_zero_score(), torch.zeros(2, 2), [0.1, 1.0]), "decreasing"),
    (lambda: annealed_langevin(_zero_score(), torch.zeros(2, 2), [1.0, 0.1], step_size=0), "step_size"),
    (lambda: S.VESDE(sigma_min=5, sigma_max=1), "sigma_min must be < sigma_max"),
    (lambda: reverse_sde_sample(_zero_score(S.VPSDE()), torch.zeros(2, 2), [0.1, 0.5]), "strictly decreasing"),
    (lambda: probability_flow_ode(_zero_score(S.VPSDE()), torch.zeros(2, 2), [1.0, 0.5, 0.7]),
     "strictly decreasing or increasing"),
    (lambda: probability_flow_ode(_zero_score(S.VPSDE()), torch.zeros(2, 2), [1.0, 0.5], method="rk4"), "method"),
    (lambda: probability_flow_ode(_zero_score(DiscreteVP()), torch.zeros(2, 2), 10), "continuous process"),
    (lambda: dsm_loss(lambda x, s: x, torch.zeros(2, 2), -1.0), "sigma"),
])
def test_bad_input(call, word):
    with pytest.raises(ValueError, match=word):
        call()


def test_real_baseline_holds_out_the_samples_class_mix_at_random_and_scores_it_against_the_rest():
    """The yardstick for a sampler's Fréchet distance: real images of the samples' n and classes, drawn at random
    (an ordered data set's first images are not a sample of it), scored against the others."""
    torch.manual_seed(0)
    net = torch.nn.Linear(4, 3)

    class Clf(torch.nn.Module):  # features = the images flattened, through a fixed linear map
        def __init__(self):
            super().__init__()
            self.lin = net

        def features(self, x):
            return x.flatten(1)

        def head(self, f):
            return self.lin(f)

    g = torch.Generator().manual_seed(1)
    labels = torch.arange(400) % 4
    images = torch.randn(400, 1, 2, 2, generator=g) + labels[:, None, None, None]
    sample_labels = torch.tensor([0, 0, 1, 2, 3, 3, 3])
    ref, fd = metrics.real_baseline(Clf(), images, labels, sample_labels, seed=0)
    assert ref.shape == (400 - 7, 4) and fd > 0
    assert metrics.real_baseline(Clf(), images, labels, sample_labels, seed=0)[1] == fd       # seeded
    assert metrics.real_baseline(Clf(), images, labels, sample_labels, seed=1)[1] != fd       # a different draw
    with pytest.raises(ValueError, match="class 3"):
        metrics.real_baseline(Clf(), images[:8], labels[:8], torch.full((5,), 3))


def test_frechet_with_se_gives_the_distance_and_a_bootstrap_spread_that_shrinks_with_n():
    g = torch.Generator().manual_seed(0)
    ref = torch.randn(4000, 3, generator=g, dtype=torch.float64)
    small, large = (torch.randn(n, 3, generator=g, dtype=torch.float64) + 0.5 for n in (100, 1600))
    fd, se = metrics.frechet_with_se(small, ref)
    assert fd == metrics.frechet_distance(small, ref) and se > 0
    assert metrics.frechet_with_se(large, ref)[1] < se / 2     # about 1/√16 of it
    assert abs(metrics.frechet_with_se(large, ref)[0] - 0.75) < 0.15  # ‖μ shift‖² = 3 · 0.5²
