"""The forward process and its posterior against closed forms (and against the slides' typos)."""
import pytest
import torch

from diffedu import forward, schedules
from diffedu.forward import q_posterior, q_sample, q_step


def test_closed_form_matches_the_iterated_chain(gen):
    s = schedules.linear(100)
    x0 = torch.tensor([[1.5, -0.5]], dtype=torch.float64).repeat(40000, 1)
    x = x0
    for t in range(1, 61):
        x = q_step(x, t, s, generator=gen)
    mean, var = forward.q_mean_var(x0[:1], 60, s)
    n = x.shape[0]
    assert torch.allclose(x.mean(0), mean[0], atol=4 * var.sqrt() / n**0.5)
    assert torch.allclose(x.var(0), var.expand(2), rtol=0.04)
    direct = q_sample(x0, 60, s, generator=gen)
    assert torch.allclose(direct.mean(0), x.mean(0), atol=0.03)


def test_without_the_sqrt_scaling_the_variance_explodes(gen):
    s = schedules.linear(1000)
    x = torch.zeros(5000, 1, dtype=torch.float64)
    for t in range(1, 1001):  # x_t = x_{t-1} + √β_t ε: variance Σβ_t grows instead of staying ≤ 1
        x = x + s.betas[t].sqrt() * torch.randn(x.shape, generator=gen, dtype=x.dtype)
    assert abs(float(x.var()) - float(s.betas.sum())) < 0.5 and float(x.var()) > 8


def test_posterior_equals_exact_gaussian_conditioning():
    # Joint of (x_{t-1}, x_t) given x_0 in 1-D: condition it by hand and compare.
    s = schedules.cosine(50)
    x0 = torch.tensor([[0.7], [-1.2]], dtype=torch.float64)
    xt = torch.tensor([[0.3], [0.9]], dtype=torch.float64)
    for t in (1, 2, 17, 50):
        ab, ab_prev, a = s.alpha_bars[t], s.alpha_bars[t - 1], s.alphas[t]
        m_prev, v_prev = ab_prev.sqrt() * x0, 1 - ab_prev          # x_{t-1} | x_0
        m_t, v_t = ab.sqrt() * x0, 1 - ab                           # x_t | x_0
        cov = a.sqrt() * v_prev                                     # Cov(x_{t-1}, x_t | x_0)
        mean_exact = m_prev + cov / v_t * (xt - m_t)
        var_exact = v_prev - cov**2 / v_t
        mean, var = q_posterior(x0, xt, t, s)
        assert torch.allclose(mean, mean_exact, atol=1e-12), t
        assert torch.allclose(var.reshape(()), var_exact, atol=1e-12), t


def test_the_slides_posterior_without_bars_is_wrong():
    s = schedules.linear(1000)
    t = 500
    a, a_prev, ab = s.alphas[t], s.alphas[t - 1], s.alpha_bars[t]
    slide_var = (1 - a) * (1 - a_prev) / (1 - ab)                   # as printed on the slide
    assert not torch.isclose(slide_var, s.posterior_variances[t], rtol=0.5)


def test_eps_form_of_the_posterior_mean():
    s = schedules.linear(200)
    g = torch.Generator().manual_seed(0)
    x0, eps = torch.randn(8, 3, generator=g, dtype=torch.float64), torch.randn(8, 3, generator=g, dtype=torch.float64)
    t = torch.randint(1, 201, (8,), generator=g)
    xt = q_sample(x0, t, s, noise=eps)
    mean, _ = q_posterior(x0, xt, t, s)
    assert torch.allclose(forward.ddpm_mean(xt, t, eps, s), mean, atol=1e-10)
    assert torch.allclose(forward.x0_from_eps(xt, t, eps, s), x0, atol=1e-9)
    v = forward.v_target(x0, eps, t, s)
    assert torch.allclose(forward.eps_from_v(xt, t, v, s), eps, atol=1e-10)
    score = forward.score_from_eps(xt, t, eps, s)
    assert torch.allclose(forward.eps_from_score(xt, t, score, s), eps)


def test_gaussian_kl_closed_form_against_monte_carlo(gen):
    m1, v1, m2, v2 = torch.tensor(0.3), torch.tensor(0.5), torch.tensor(-0.2), torch.tensor(1.5)
    x = m1 + v1.sqrt() * torch.randn(400000, generator=gen)
    logp = lambda x, m, v: -0.5 * ((x - m) ** 2 / v + torch.log(2 * torch.pi * v))
    mc = (logp(x, m1, v1) - logp(x, m2, v2)).mean()
    assert abs(float(forward.gaussian_kl(m1, v1, m2, v2)) - float(mc)) < 0.01
    assert float(forward.gaussian_kl(m1, v1, m1, v1)) == 0.0


@pytest.mark.parametrize("call, word", [
    (lambda s: q_sample(torch.zeros(2, 2), 1, s, noise=torch.zeros(3, 2)), "same shape"),
    (lambda s: q_sample(torch.tensor([[float("nan"), 0.0]]), 1, s), "NaN"),
    (lambda s: q_sample(torch.zeros(2, 2), torch.tensor([1, 2, 3]), s), "entries"),
    (lambda s: q_step(torch.zeros(2, 2), 0, s), "t must be >= 1"),
    (lambda s: q_posterior(torch.zeros(2, 2), torch.zeros(2, 3), 3, s), "same shape"),
    (lambda s: forward.to_eps(torch.zeros(1), torch.zeros(1), 1, s, "score"), "parameterization"),
    (lambda s: forward.gaussian_kl(torch.zeros(1), 0.0, torch.zeros(1), 1.0), "positive"),
])
def test_bad_input(call, word):
    with pytest.raises(ValueError, match=word):
        call(schedules.linear(10))
