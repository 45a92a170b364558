"""DDPM and DDIM driven by the exact ε of a Gaussian mixture must reproduce that mixture: this tests the
samplers without any training."""
import pytest
import torch

from diffedu import metrics, schedules, toy
from diffedu.samplers import ddim_sample, ddim_timesteps, ddpm_sample

N = 3000


def _floor(mix):
    mean, std = metrics.noise_floor(mix.sample, N, repeats=8)
    return mean + 2 * std


def _mode_fractions(mix, x):
    k = mix.posterior_labels(x.double()).argmax(1)
    return torch.bincount(k, minlength=len(mix.weights)).double() / x.shape[0]


@pytest.mark.parametrize("variance", ["beta", "beta_tilde"])
def test_ddpm_with_exact_eps_reproduces_the_mixture(variance):
    mix, s = toy.ring(), schedules.linear(1000)
    g = torch.Generator().manual_seed(0)
    x = ddpm_sample(mix.eps_fn(s), torch.randn(N, 2, generator=g, dtype=torch.float64), s,
                    variance=variance, generator=g)
    d = metrics.sliced_wasserstein(x, mix.sample(N, g))
    assert d < _floor(mix), d
    assert torch.allclose(_mode_fractions(mix, x), mix.weights, atol=0.03)


def test_ddim_with_exact_eps_reproduces_the_mixture():
    mix, s = toy.unbalanced(), schedules.cosine(1000)
    g = torch.Generator().manual_seed(1)
    x = ddim_sample(mix.eps_fn(s), torch.randn(N, 2, generator=g, dtype=torch.float64), s, steps=100)
    assert metrics.sliced_wasserstein(x, mix.sample(N, g)) < _floor(mix)
    assert torch.allclose(_mode_fractions(mix, x), mix.weights, atol=0.03)  # weights 0.8 / 0.2 kept


def test_ddim_eta0_is_deterministic_and_eta1_all_steps_equals_ddpm_beta_tilde():
    mix, s = toy.grid(), schedules.linear(100)
    x = torch.randn(64, 2, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    a = ddim_sample(mix.eps_fn(s), x, s, steps=20, generator=torch.Generator().manual_seed(5))
    b = ddim_sample(mix.eps_fn(s), x, s, steps=20, generator=torch.Generator().manual_seed(6))
    assert torch.equal(a, b)
    # η = 1 over every step is exactly ancestral sampling with σ_t² = β̃_t (same noise draws)
    c = ddim_sample(mix.eps_fn(s), x, s, steps=100, eta=1.0, generator=torch.Generator().manual_seed(7))
    d = ddpm_sample(mix.eps_fn(s), x, s, variance="beta_tilde", generator=torch.Generator().manual_seed(7))
    assert torch.allclose(c, d, atol=1e-8)


def test_ddim_eta_as_a_function_of_t_applies_per_step():
    """η(t) = 1 while t > 50, 0 after: the path follows η = 1 exactly down to t = 50, then leaves it."""
    mix, s = toy.grid(), schedules.linear(100)
    x = torch.randn(64, 2, generator=torch.Generator().manual_seed(3), dtype=torch.float64)

    def path(eta):
        states = {}
        ddim_sample(mix.eps_fn(s), x, s, steps=20, eta=eta, generator=torch.Generator().manual_seed(5),
                    callback=lambda d: states.__setitem__(d["t_next"], d["x"]))
        return states

    const0, const1, split = path(0.0), path(1.0), path(lambda t: t > 50)
    assert all(torch.equal(a, b) for a, b in zip(path(lambda t: 0.0).values(), const0.values()))
    assert all(torch.equal(a, b) for a, b in zip(path(lambda t: 1).values(), const1.values()))
    assert all(torch.equal(split[t], const1[t]) for t in split if t >= 50)
    assert not torch.allclose(split[0], const1[0]) and not torch.allclose(split[0], const0[0])


def test_the_slides_in_practice_step_with_bars_collapses_the_modes():
    """The "In practice" slide writes x_{t−1} = (x_t − (1−ᾱ_t)/√(1−ᾱ_t) ε)/√ᾱ_t + σ_t z. That bracket is
    exactly x̂_0, so each step discards x_t and keeps only σ_t z of spread: samples collapse onto the
    modes. The correct step (α_t outside, β_t/√(1−ᾱ_t) inside) keeps the data's spread."""
    mix, s = toy.ring(std=0.15), schedules.linear(1000)

    def within_mode_std(x):
        k = mix.posterior_labels(x).argmax(1)
        return float((x - mix.means[k]).std())

    g = torch.Generator().manual_seed(0)
    x = torch.randn(2000, 2, generator=g, dtype=torch.float64)
    for t in range(1000, 0, -1):
        eps = mix.eps_vp(x, t, s)
        ab = s.alpha_bars[t]
        x = (x - (1 - ab) / (1 - ab).sqrt() * eps) / ab.sqrt()
        if t > 1:
            x = x + s.betas[t].sqrt() * torch.randn(x.shape, generator=g, dtype=x.dtype)
    right = ddpm_sample(mix.eps_fn(s), torch.randn(2000, 2, generator=g, dtype=torch.float64), s, generator=g)
    assert within_mode_std(x) < 0.5 * 0.15
    assert abs(within_mode_std(right) - 0.15) < 0.015


def test_callback_sees_every_step_and_the_timesteps():
    s = schedules.linear(50)
    seen = []
    eps0 = lambda x, t: torch.zeros_like(x)
    ddpm_sample(eps0, torch.zeros(2, 2), s, callback=lambda d: seen.append(d["t"]))
    assert seen == list(range(50, 0, -1))
    seen.clear()
    ddim_sample(eps0, torch.zeros(2, 2), s, steps=5, callback=lambda d: seen.append((d["t"], d["t_next"])))
    assert seen == [(50, 40), (40, 30), (30, 20), (20, 10), (10, 0)]
    assert ddim_timesteps(1000, 10)[0] == 1000 and len(set(ddim_timesteps(1000, 1000))) == 1000


def test_images_share_the_code_path():
    s = schedules.cosine(20)
    x = torch.randn(3, 1, 8, 8)
    out = ddim_sample(lambda x, t: torch.zeros_like(x), x, s, steps=4)
    assert out.shape == x.shape and out.dtype == x.dtype


@pytest.mark.parametrize("call, word", [
    (lambda s, f: ddpm_sample(f, torch.zeros(2, 2), s, variance="big"), "variance"),
    (lambda s, f: ddim_sample(f, torch.zeros(2, 2), s, eta=-1), "eta"),
    (lambda s, f: ddim_sample(f, torch.zeros(2, 2), s, steps=5, eta=lambda t: -0.5), r"eta\(t\)"),
    (lambda s, f: ddim_sample(f, torch.zeros(2, 2), s, steps=0), "steps"),
    (lambda s, f: ddim_sample(f, torch.zeros(2, 2), s, timesteps=[3, 5]), "decreasing"),
    (lambda s, f: ddim_sample(f, torch.zeros(2, 2), s, timesteps=[11, 5]), r"\[1, 10\]"),
    (lambda s, f: ddim_sample(lambda x, t: x[:, :1], torch.zeros(2, 2), s, steps=5), "shape"),
    (lambda s, f: ddpm_sample(lambda x, t: x * float("nan"), torch.ones(2, 2), s), "NaN"),
    (lambda s, f: ddpm_sample(f, torch.tensor([[float("inf"), 0.0]]), s), "NaN"),
])
def test_bad_input(call, word):
    with pytest.raises(ValueError, match=word):
        call(schedules.linear(10), lambda x, t: torch.zeros_like(x))


def test_recorder_keeps_every_kth_step_and_the_last():
    from diffedu.samplers import Recorder

    s = schedules.linear(10)
    rec = Recorder(every=4, start=torch.zeros(2, 2))
    ddpm_sample(lambda x, t: torch.zeros_like(x), torch.zeros(2, 2), s, callback=rec)
    assert rec.times == ["start", 6, 2, 0]
    assert len(rec.frames) == 4
