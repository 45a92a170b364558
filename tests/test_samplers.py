"""DDPM and DDIM driven by the exact ε of a Gaussian mixture must reproduce that mixture: this tests the
samplers without any training."""
import pytest
import torch

from diffedu import FunctionModel, metrics, toy
from diffedu.processes import DiscreteVP
from diffedu.samplers import ddim_sample, ddpm_sample

N = 3000


def _floor(mix):
    mean, std = metrics.noise_floor(mix.sample, N, repeats=8)
    return mean + 2 * std


def _mode_fractions(mix, x):
    k = mix.posterior_labels(x.double()).argmax(1)
    return torch.bincount(k, minlength=len(mix.weights)).double() / x.shape[0]


def _zero(T):
    return FunctionModel(lambda x, t: torch.zeros_like(x), DiscreteVP("linear", T), "eps")


@pytest.mark.parametrize("variance", ["beta", "beta_tilde"])
def test_ddpm_with_exact_eps_reproduces_the_mixture(variance):
    mix, p = toy.ring(), DiscreteVP("linear", 1000)
    g = torch.Generator().manual_seed(0)
    x = ddpm_sample(mix.model(p), torch.randn(N, 2, generator=g, dtype=torch.float64), variance=variance,
                    generator=g)
    d = metrics.sliced_wasserstein(x, mix.sample(N, g))
    assert d < _floor(mix), d
    assert torch.allclose(_mode_fractions(mix, x), mix.weights, atol=0.03)


def test_ddim_with_exact_eps_reproduces_the_mixture():
    mix = toy.unbalanced()
    g = torch.Generator().manual_seed(1)
    x = ddim_sample(mix.model(DiscreteVP("cosine", 1000)), torch.randn(N, 2, generator=g, dtype=torch.float64), 100)
    assert metrics.sliced_wasserstein(x, mix.sample(N, g)) < _floor(mix)
    assert torch.allclose(_mode_fractions(mix, x), mix.weights, atol=0.03)  # weights 0.8 / 0.2 kept


def test_ddim_eta0_is_deterministic_and_eta1_all_steps_equals_ddpm_beta_tilde():
    m = toy.grid().model(DiscreteVP("linear", 100))
    x = torch.randn(64, 2, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    a = ddim_sample(m, x, 20, generator=torch.Generator().manual_seed(5))
    b = ddim_sample(m, x, 20, generator=torch.Generator().manual_seed(6))
    assert torch.equal(a, b)
    # η = 1 over every step is exactly ancestral sampling with σ_t² = β̃_t (same noise draws)
    c = ddim_sample(m, x, 100, eta=1.0, generator=torch.Generator().manual_seed(7))
    d = ddpm_sample(m, x, variance="beta_tilde", generator=torch.Generator().manual_seed(7))
    assert torch.allclose(c, d, atol=1e-8)
    # and on a coarser grid DDPM is the same posterior step: η = 1 on 20 steps
    e = ddim_sample(m, x, 20, eta=1.0, generator=torch.Generator().manual_seed(8))
    f = ddpm_sample(m, x, 20, variance="beta_tilde", generator=torch.Generator().manual_seed(8))
    assert torch.allclose(e, f, atol=1e-8)


def test_ddim_eta_as_a_function_of_t_applies_per_step():
    """η(t) = 1 while t > 50, 0 after: the path follows η = 1 exactly down to t = 50, then leaves it."""
    m = toy.grid().model(DiscreteVP("linear", 100))
    x = torch.randn(64, 2, generator=torch.Generator().manual_seed(3), dtype=torch.float64)

    def path(eta):
        states = {}
        ddim_sample(m, x, 20, eta=eta, generator=torch.Generator().manual_seed(5),
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
    mix, p = toy.ring(std=0.15), DiscreteVP("linear", 1000)
    s, exact = p.sched, mix.model(p)

    def within_mode_std(x):
        k = mix.posterior_labels(x).argmax(1)
        return float((x - mix.means[k]).std())

    g = torch.Generator().manual_seed(0)
    x = torch.randn(2000, 2, generator=g, dtype=torch.float64)
    for t in range(1000, 0, -1):
        eps = exact.eps(x, t)
        ab = s.alpha_bars[t]
        x = (x - (1 - ab) / (1 - ab).sqrt() * eps) / ab.sqrt()
        if t > 1:
            x = x + s.betas[t].sqrt() * torch.randn(x.shape, generator=g, dtype=x.dtype)
    right = ddpm_sample(exact, torch.randn(2000, 2, generator=g, dtype=torch.float64), generator=g)
    assert within_mode_std(x) < 0.5 * 0.15
    assert abs(within_mode_std(right) - 0.15) < 0.015


def test_callback_sees_every_step_and_the_timesteps():
    seen = []
    ddpm_sample(_zero(50), torch.zeros(2, 2), callback=lambda d: seen.append(d["t"]))
    assert seen == list(range(50, 0, -1))
    seen.clear()
    ddim_sample(_zero(50), torch.zeros(2, 2), 5, callback=lambda d: seen.append((d["t"], d["t_next"])))
    assert seen == [(50, 40), (40, 30), (30, 20), (20, 10), (10, 0)]
    g = DiscreteVP("linear", 1000).grid(10)
    assert g[0] == 1000 and g[-1] == 0 and len(set(DiscreteVP("linear", 1000).grid(1000).tolist())) == 1001


def test_images_share_the_code_path():
    x = torch.randn(3, 1, 8, 8)
    out = ddim_sample(_zero(20), x, 4)
    assert out.shape == x.shape and out.dtype == x.dtype


def _fn(f):
    return FunctionModel(f, DiscreteVP("linear", 10), "eps")


@pytest.mark.parametrize("call, word", [
    (lambda m: ddpm_sample(m, torch.zeros(2, 2), variance="big"), "variance"),
    (lambda m: ddim_sample(m, torch.zeros(2, 2), eta=-1), "eta"),
    (lambda m: ddim_sample(m, torch.zeros(2, 2), 5, eta=lambda t: -0.5), r"eta\(t\)"),
    (lambda m: ddim_sample(m, torch.zeros(2, 2), 0), "steps"),
    (lambda m: ddim_sample(m, torch.zeros(2, 2), [3, 5]), "decreasing"),
    (lambda m: ddim_sample(m, torch.zeros(2, 2), [11, 5]), r"\[0, 10\]"),
    (lambda m: ddim_sample(m, torch.zeros(2, 2), [9.5, 2.7]), "integer steps"),
    (lambda m: ddim_sample(m, torch.zeros(2, 2), "fast"), "grid"),
    (lambda m: ddim_sample(m, torch.zeros(2, 2), 5, clip_x0="1"), "clip_x0"),
    (lambda m: ddim_sample(_fn(lambda x, t: x[:, :1]), torch.zeros(2, 2), 5), "shape"),
    (lambda m: ddpm_sample(_fn(lambda x, t: x * float("nan")), torch.ones(2, 2)), "NaN"),
    (lambda m: ddpm_sample(m, torch.tensor([[float("inf"), 0.0]])), "NaN"),
])
def test_bad_input(call, word):
    with pytest.raises(ValueError, match=word):
        call(_fn(lambda x, t: torch.zeros_like(x)))


def test_a_bare_network_is_refused_with_a_pointer_to_the_model_object():
    with pytest.raises(TypeError, match="model must be a diffedu Model"):
        ddim_sample(lambda x, t: x, torch.zeros(2, 2), 5)


def test_recorder_keeps_every_kth_step_and_the_last():
    from diffedu.samplers import Recorder

    rec = Recorder(every=4, start=torch.zeros(2, 2))
    ddpm_sample(_zero(10), torch.zeros(2, 2), callback=rec)
    assert rec.times == ["start", 6, 2, 0]
    assert len(rec.frames) == 4
