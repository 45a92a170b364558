import math

import pytest
import torch

from diffedu import toy
from diffedu.models import MLPDenoiser, timestep_embedding
from diffedu.processes import DiscreteVP


def test_embedding_matches_the_formula_and_is_bounded():
    d = 16
    t = torch.tensor([0, 1, 7, 999])
    e = timestep_embedding(t, d)
    for row, pos in enumerate(t.tolist()):
        for i in range(d // 2):
            assert math.isclose(e[row, 2 * i].item(), math.sin(pos / 10000 ** (2 * i / d)), abs_tol=1e-6)
            assert math.isclose(e[row, 2 * i + 1].item(), math.cos(pos / 10000 ** (2 * i / d)), abs_tol=1e-6)
    big = timestep_embedding(torch.linspace(0, 5000, 1001), 64)
    assert big.abs().max() <= 1.0
    assert (timestep_embedding(torch.tensor([10]), 64) - timestep_embedding(torch.tensor([11]), 64)).norm() > 0


def test_embedding_rejects_odd_dims_and_bad_shapes():
    with pytest.raises(ValueError, match="even"):
        timestep_embedding(torch.tensor([1]), 7)
    with pytest.raises(ValueError, match="batch"):
        timestep_embedding(torch.tensor([[1]]), 8)


def test_mixture_score_equals_autograd_of_log_density():
    mix = toy.ring()
    p = DiscreteVP("linear", 1000)
    exact = mix.model(p)
    x = torch.randn(64, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) * 2
    for a, b in [(1.0, 0.0), (1.0, 0.7), (0.6, 0.8)]:
        xr = x.clone().requires_grad_(True)
        (g,) = torch.autograd.grad(mix.log_prob(xr, a, b).sum(), xr)
        assert torch.allclose(mix.score(x, a, b), g, atol=1e-10)
    t = torch.randint(1, 1001, (64,))
    xr = x.clone().requires_grad_(True)
    ab = p.sched.alpha_bars[t]
    (g,) = torch.autograd.grad(mix.log_prob(xr, ab.sqrt(), (1 - ab).sqrt()).sum(), xr)
    assert torch.allclose(exact.score(x, t), g, atol=1e-10)
    assert torch.allclose(exact.eps(x, t), -(1 - ab).sqrt()[:, None] * g, atol=1e-10)
    # one time shared by the batch (every sampler step) takes the cached fixed-level path: the same values
    shared = torch.full((64,), int(t[0]))
    assert torch.allclose(exact.score(x, shared), mix.score(x, ab[0].sqrt(), (1 - ab[0]).sqrt()), atol=1e-10)


def test_mixture_density_integrates_to_one():
    mix = toy.unbalanced()
    xs = torch.linspace(-6, 6, 401, dtype=torch.float64)
    grid = torch.cartesian_prod(xs, xs)
    mass = mix.log_prob(grid).exp().sum() * (xs[1] - xs[0]) ** 2
    assert abs(float(mass) - 1) < 1e-3


def test_toy_sets_and_bad_names():
    for name in ("ring8", "grid25", "unbalanced", "moons", "swiss_roll", "circles"):
        x = toy.sample(name, 500)
        assert x.shape == (500, 2) and torch.isfinite(x).all()
    with pytest.raises(ValueError, match="toy set"):
        toy.sample("spiral", 10)
    with pytest.raises(ValueError, match="weights"):
        toy.GaussianMixture(torch.zeros(2, 2), torch.ones(2), torch.tensor([0.5, 0.6]))
    with pytest.raises(ValueError, match="shape"):
        toy.ring().score(torch.zeros(3, 3))


def test_mlp_shapes_and_batch_independence():
    m = MLPDenoiser().eval()
    x, t = torch.randn(5, 2), torch.tensor([1, 10, 100, 500, 999])
    out = m(x, t)
    assert out.shape == x.shape
    assert torch.allclose(m(x[2:3], t[2:3]), out[2:3], atol=1e-6)


def test_fixed_level_score_is_the_same_formula():
    mix = toy.ring()
    x = 3 * torch.randn(100, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    for a, b in [(1.0, 0.0), (1.0, 0.5), (0.3, 0.9)]:
        assert torch.allclose(mix.fixed_level_score(a, b)(x), mix.score(x, a, b), atol=1e-12)
